// deca::Adam: LibTorch's Adam and clip_grad_norm_ as they compute, with the
// skip of non-finite steps on the device leaving everything bit-identical.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/train/adam.h"
#include "test_support.h"

namespace {

// A small model with a parameter that a loss can leave unused.
struct Toy : torch::nn::Module {
  Toy() {
    a = register_module("a", torch::nn::Linear(5, 4));
    b = register_module("b", torch::nn::Linear(4, 3));
    unused = register_parameter("unused", torch::randn({2}));
  }
  torch::Tensor loss(const torch::Tensor& x, double scale = 1.0) { return b(torch::tanh(a(x))).pow(2).sum() * scale; }
  torch::nn::Linear a{nullptr}, b{nullptr};
  torch::Tensor unused;
};

std::vector<std::pair<std::string, torch::Tensor>> named(const torch::nn::Module& m) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : m.named_parameters()) out.emplace_back(p.key(), p.value());
  return out;
}

// to's weights set to from's (two models of one architecture).
void copy_weights(const torch::nn::Module& from, torch::nn::Module& to) {
  torch::NoGradGuard no_grad;
  const auto source = from.parameters();
  auto target = to.parameters();
  for (size_t i = 0; i < source.size(); ++i) target[i].copy_(source[i]);
}

// `steps` steps of two toys, each with its optimizer, on the same random
// batches at learning rate 0.01; false when a step was skipped.
bool train_alike(Toy& a, deca::Adam& opt_a, Toy& b, deca::Adam& opt_b, int steps) {
  for (int step = 0; step < steps; ++step) {
    const auto x = torch::randn({7, 5});
    for (auto [m, opt] : {std::pair<Toy*, deca::Adam*>{&a, &opt_a}, {&b, &opt_b}}) {
      opt->zero_grad();
      const auto loss = m->loss(x);
      loss.backward();
      if (!opt->step(loss, 0.01).item<bool>()) return false;
    }
  }
  return true;
}

// The position of parameter `name` among the trained ones.
int64_t index_of(const torch::nn::Module& m, const std::string& name) {
  const auto all = named(m);
  for (size_t i = 0; i < all.size(); ++i)
    if (all[i].first == name) return static_cast<int64_t>(i);
  throw std::runtime_error("no parameter " + name);
}

std::vector<torch::Tensor> snapshot(const torch::nn::Module& m, const deca::Adam& adam) {
  std::vector<torch::Tensor> out;
  for (const auto& p : m.parameters()) out.push_back(p.detach().clone());
  for (const auto& s : adam.state()) out.push_back(s.exp_avg.clone()), out.push_back(s.exp_avg_sq.clone());
  out.push_back(adam.steps().clone());
  return out;
}

void expect_bit_identical(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << "tensor " << i;
}

// Both paths: the fused CPU loop, and the tensor operations a GPU runs.
class Adam : public ::testing::TestWithParam<bool> {
 protected:
  deca::AdamOptions options(double clip = 0.5, torch::ScalarType state = torch::kFloat) const {
    deca::AdamOptions o{0.9, 0.98, 1e-9, clip};
    o.tensor_ops_on_cpu = GetParam();
    o.state_dtype = state;
    return o;
  }
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Paths, Adam, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "TensorOps" : "FusedCpu"; });

TEST_P(Adam, MatchesLibTorchAdamWithClipping) {
  torch::manual_seed(3);
  Toy ours, theirs;
  copy_weights(ours, theirs);
  deca::Adam adam(named(ours), options());
  torch::optim::Adam reference(theirs.parameters(), torch::optim::AdamOptions(0.01).betas({0.9, 0.98}).eps(1e-9));
  for (int step = 0; step < 6; ++step) {
    const auto x = torch::randn({7, 5});
    const double lr = 0.01 * (step + 1);
    adam.zero_grad();
    const auto loss = ours.loss(x);
    loss.backward();
    EXPECT_TRUE(adam.step(loss, lr).item<bool>());
    reference.zero_grad();
    theirs.loss(x).backward();
    torch::nn::utils::clip_grad_norm_(theirs.parameters(), 0.5);  // the norms here exceed 0.5: clipping acts
    static_cast<torch::optim::AdamOptions&>(reference.param_groups()[0].options()).lr(lr);
    reference.step();
  }
  for (size_t i = 0; i < ours.parameters().size(); ++i)
    EXPECT_TRUE(torch::allclose(ours.parameters()[i], theirs.parameters()[i], 1e-5, 1e-7))
        << ours.named_parameters().keys()[i];
  EXPECT_TRUE(torch::equal(ours.unused, theirs.unused));
}

// An embedding's sparse gradient (the rows looked up, repeats among them)
// updates as the same gradient dense: rows not looked up take a zero
// gradient's update, their moments decaying.
TEST_P(Adam, SparseGradientsUpdateAsTheirDenseEquals) {
  torch::manual_seed(5);
  auto sparse = torch::nn::Embedding(torch::nn::EmbeddingOptions(40, 6).sparse(true));
  auto dense = torch::nn::Embedding(torch::nn::EmbeddingOptions(40, 6));
  {
    torch::NoGradGuard no_grad;
    dense->weight.copy_(sparse->weight);
  }
  deca::Adam a(named(*sparse), options(0.3)), b(named(*dense), options(0.3));
  for (int step = 0; step < 5; ++step) {
    const auto ids = torch::randint(0, 12 + 5 * step, {3, 9}, torch::kInt64);  // repeats; most rows unused
    const auto target = torch::randn({3, 9, 6});
    a.zero_grad();
    b.zero_grad();
    const auto la = (sparse(ids) - target).pow(2).sum(), lb = (dense(ids) - target).pow(2).sum();
    la.backward();
    lb.backward();
    ASSERT_TRUE(sparse->weight.grad().is_sparse());
    EXPECT_TRUE(a.step(la, 0.05).item<bool>());
    EXPECT_TRUE(b.step(lb, 0.05).item<bool>());
  }
  EXPECT_TRUE(torch::allclose(sparse->weight, dense->weight, 1e-6, 1e-7))
      << "max difference " << (sparse->weight - dense->weight).abs().max().item<double>();
  EXPECT_TRUE(torch::allclose(a.state()[0].exp_avg, b.state()[0].exp_avg, 1e-6, 1e-9));
  EXPECT_TRUE(torch::allclose(a.state()[0].exp_avg_sq, b.state()[0].exp_avg_sq, 1e-6, 1e-12));
}

TEST_P(Adam, NonFiniteStepsChangeNothing) {
  for (const auto state : {torch::kFloat, torch::kBFloat16}) {
    SCOPED_TRACE(c10::toString(state));
    torch::manual_seed(4);
    Toy m;
    deca::Adam adam(named(m), options(0.5, state));
    const auto x = torch::randn({7, 5});
    auto train = [&](double scale) {
      adam.zero_grad();
      const auto loss = m.loss(x, scale);
      loss.backward();
      return adam.step(loss, 0.01).item<bool>();
    };
    ASSERT_TRUE(train(1.0));
    const auto before = snapshot(m, adam);
    EXPECT_FALSE(train(std::numeric_limits<double>::quiet_NaN()));  // NaN loss and gradients
    expect_bit_identical(before, snapshot(m, adam));
    EXPECT_FALSE(train(std::numeric_limits<double>::infinity()));
    expect_bit_identical(before, snapshot(m, adam));
    // A finite loss with an infinite gradient: caught by the clipping norm.
    adam.zero_grad();
    const auto loss = m.loss(x);
    loss.backward();
    m.a->weight.mutable_grad()[0][0] = std::numeric_limits<float>::infinity();
    EXPECT_FALSE(adam.step(loss, 0.01).item<bool>());
    expect_bit_identical(before, snapshot(m, adam));
    // The next good step is the one that would have followed the first.
    ASSERT_TRUE(train(1.0));
    Toy again;
    {
      torch::NoGradGuard no_grad;
      torch::manual_seed(4);
      Toy fresh;
      for (size_t i = 0; i < again.parameters().size(); ++i) again.parameters()[i].copy_(fresh.parameters()[i]);
    }
    deca::Adam clean(named(again), options(0.5, state));
    for (int i = 0; i < 2; ++i) {
      clean.zero_grad();
      const auto l = again.loss(x);
      l.backward();
      clean.step(l, 0.01);
    }
    expect_bit_identical(snapshot(again, clean), snapshot(m, adam));
  }
}

TEST_P(Adam, ParametersWithoutGradientAreLeftAlone) {
  torch::manual_seed(5);
  Toy m;
  deca::Adam adam(named(m), options());
  const auto unused = m.unused.detach().clone();
  for (int i = 0; i < 3; ++i) {
    adam.zero_grad();
    const auto loss = m.loss(torch::randn({3, 5}));
    loss.backward();
    adam.step(loss, 0.01);
  }
  EXPECT_TRUE(torch::equal(m.unused, unused));
  EXPECT_EQ(adam.steps()[index_of(m, "a.weight")].item<double>(), 3);
  EXPECT_EQ(adam.steps()[index_of(m, "unused")].item<double>(), 0);
}

TEST_P(Adam, StateRoundTripsAndContinuesIdentically) {
  for (const auto state : {torch::kFloat, torch::kBFloat16}) {
    SCOPED_TRACE(c10::toString(state));
    deca::testing::TempDir dir("adam");
    torch::manual_seed(6);
    Toy m;
    deca::Adam adam(named(m), options(0.5, state));
    const auto x = torch::randn({4, 5});
    auto train = [&](Toy& model, deca::Adam& opt) {
      opt.zero_grad();
      const auto loss = model.loss(x);
      loss.backward();
      opt.step(loss, 0.02);
    };
    for (int i = 0; i < 3; ++i) train(m, adam);
    deca::write_file_atomic(dir.path() / "optimizer.safetensors", adam.to_bytes());
    Toy copy;
    copy_weights(m, copy);
    deca::Adam loaded(named(copy), options(0.5, state));
    loaded.load(dir.path() / "optimizer.safetensors", torch::kCPU);
    expect_bit_identical(snapshot(m, adam), snapshot(copy, loaded));
    train(m, adam);
    train(copy, loaded);
    expect_bit_identical(snapshot(m, adam), snapshot(copy, loaded));
  }
}

// A run can change training.optimizer_state when it resumes: fp32 moments load
// into bfloat16 ones (rounded to nearest) and back (exactly).
TEST_P(Adam, StateLoadsAcrossStateTypes) {
  deca::testing::TempDir dir("adam");
  torch::manual_seed(10);
  Toy m;
  deca::Adam full(named(m), options());
  for (int i = 0; i < 3; ++i) {
    full.zero_grad();
    const auto loss = m.loss(torch::randn({4, 5}));
    loss.backward();
    full.step(loss, 0.02);
  }
  deca::write_file_atomic(dir.path() / "full.safetensors", full.to_bytes());
  deca::Adam half(named(m), options(0.5, torch::kBFloat16));
  half.load(dir.path() / "full.safetensors", torch::kCPU);
  deca::write_file_atomic(dir.path() / "half.safetensors", half.to_bytes());
  deca::Adam back(named(m), options());
  back.load(dir.path() / "half.safetensors", torch::kCPU);
  EXPECT_TRUE(torch::equal(half.steps(), full.steps()));
  for (size_t i = 0; i < full.state().size(); ++i) {
    const auto& f = full.state()[i];
    const auto& h = half.state()[i];
    EXPECT_EQ(h.exp_avg.scalar_type(), torch::kBFloat16);
    EXPECT_TRUE(torch::equal(h.exp_avg, f.exp_avg.to(torch::kBFloat16))) << i;
    EXPECT_TRUE(torch::equal(h.exp_avg_sq, f.exp_avg_sq.to(torch::kBFloat16))) << i;
    EXPECT_TRUE(torch::equal(back.state()[i].exp_avg, h.exp_avg.to(torch::kFloat))) << i;
    EXPECT_TRUE(torch::equal(back.state()[i].exp_avg_sq, h.exp_avg_sq.to(torch::kFloat))) << i;
  }
}

// bfloat16 moments: the state takes half the memory, and a second moment that
// shrinks by less than half a bfloat16 unit per step (beta2 0.999: 0.1 % a
// step, the unit 0.4-0.8 %) still decays as beta2^n on average. Rounded to
// nearest it would stay where it was.
TEST_P(Adam, Bf16SecondMomentsDecayUnbiased) {
  auto w = torch::zeros({64, 128}).requires_grad_();
  auto o = options(0, torch::kBFloat16);
  o.beta2 = 0.999;
  deca::Adam adam({{"w", w}}, o);
  ASSERT_EQ(adam.state()[0].exp_avg_sq.scalar_type(), torch::kBFloat16);
  const auto loss = torch::zeros({});
  w.mutable_grad() = torch::ones_like(w);
  ASSERT_TRUE(adam.step(loss, 1e-3).item<bool>());
  const int quiet = 300;
  for (int i = 0; i < quiet; ++i) {
    w.mutable_grad() = torch::zeros_like(w);
    ASSERT_TRUE(adam.step(loss, 1e-3).item<bool>());
  }
  const double expected = (1 - 0.999) * std::pow(0.999, quiet);  // 7.4e-4; never decayed: 1e-3
  const auto v = adam.state()[0].exp_avg_sq.to(torch::kFloat64);
  EXPECT_NEAR(v.mean().item<double>(), expected, 0.003 * expected);
  EXPECT_LT((v / expected - 1).abs().max().item<double>(), 0.25);  // each element: a damped random walk of ~4 %
  EXPECT_GT(v.std().item<double>(), 0) << "every element rounded alike: the rounding bits do not vary";
}

// Training with bfloat16 moments follows fp32 moments closely.
TEST_P(Adam, Bf16StateTracksFp32State) {
  torch::manual_seed(8);
  Toy a, b;
  copy_weights(a, b);
  deca::Adam full(named(a), options()), half(named(b), options(0.5, torch::kBFloat16));
  ASSERT_TRUE(train_alike(a, full, b, half, 30));
  for (size_t i = 0; i < a.parameters().size(); ++i) {
    EXPECT_TRUE(torch::allclose(a.parameters()[i], b.parameters()[i], 0, 2e-3))
        << a.named_parameters().keys()[i] << ": " << (a.parameters()[i] - b.parameters()[i]).abs().max().item<double>();
  }
  EXPECT_FALSE(torch::equal(a.b->weight, b.b->weight)) << "bf16 moments changed nothing";
}

// The fused CPU loop and the tensor operations (a GPU's path) draw the same
// rounding bits: the moments agree to a bfloat16 unit, the weights closely.
TEST(AdamPaths, Bf16StateIsTheSameOnBothPaths) {
  torch::manual_seed(9);
  Toy a, b;
  copy_weights(a, b);
  deca::AdamOptions o{0.9, 0.98, 1e-9, 0.5};
  o.state_dtype = torch::kBFloat16;
  deca::Adam fused(named(a), o);
  o.tensor_ops_on_cpu = true;
  deca::Adam ops(named(b), o);
  ASSERT_TRUE(train_alike(a, fused, b, ops, 10));
  int64_t moments = 0, equal = 0;
  for (size_t i = 0; i < fused.state().size(); ++i) {
    for (const auto& [x, y] : {std::pair{fused.state()[i].exp_avg, ops.state()[i].exp_avg},
                               {fused.state()[i].exp_avg_sq, ops.state()[i].exp_avg_sq}}) {
      EXPECT_TRUE(torch::allclose(x.to(torch::kFloat), y.to(torch::kFloat), 1.0 / 128, 1e-30)) << "parameter " << i;
      moments += x.numel();
      equal += x.eq(y).sum().item<int64_t>();
    }
    EXPECT_TRUE(torch::allclose(a.parameters()[i], b.parameters()[i], 1e-5, 1e-6)) << "parameter " << i;
  }
  // Different bits would make half of the moments differ.
  EXPECT_GT(equal, moments * 95 / 100) << equal << " of " << moments;
}

TEST_P(Adam, ReadsTheStateOfLibTorchAdam) {
  // Checkpoints written before deca had its own Adam hold torch::optim::Adam's
  // archive: continuing from it must be what LibTorch's Adam does next.
  deca::testing::TempDir dir("adam");
  torch::manual_seed(7);
  Toy theirs, ours;
  torch::optim::Adam reference(theirs.parameters(), torch::optim::AdamOptions(0.01));
  for (int i = 0; i < 2; ++i) {
    reference.zero_grad();
    theirs.loss(torch::randn({3, 5})).backward();
    reference.step();
  }
  torch::save(reference, (dir.path() / "optimizer.pt").string());
  copy_weights(theirs, ours);
  deca::Adam adam(named(ours), [&] {
    auto o = options(0);
    o.beta2 = 0.999;
    o.eps = 1e-8;
    return o;
  }());
  adam.load(dir.path() / "optimizer.pt", torch::kCPU);
  EXPECT_EQ(adam.steps()[index_of(ours, "a.weight")].item<double>(), 2);
  EXPECT_EQ(adam.steps()[index_of(ours, "unused")].item<double>(), 0);  // no state
  const auto x = torch::randn({3, 5});
  reference.zero_grad();
  theirs.loss(x).backward();
  reference.step();
  adam.zero_grad();
  const auto loss = ours.loss(x);
  loss.backward();
  adam.step(loss, 0.01);
  for (size_t i = 0; i < ours.parameters().size(); ++i)
    EXPECT_TRUE(torch::allclose(ours.parameters()[i], theirs.parameters()[i], 1e-5, 1e-7)) << i;
}

TEST_P(Adam, MismatchedStateIsAnErrorNamingIt) {
  deca::testing::TempDir dir("adam");
  Toy m;
  deca::Adam adam(named(m), options());
  deca::write_file_atomic(dir.path() / "optimizer.safetensors", adam.to_bytes());
  struct Wider : torch::nn::Module {
    Wider() {
      a = register_module("a", torch::nn::Linear(6, 4));
      b = register_module("b", torch::nn::Linear(4, 3));
      unused = register_parameter("unused", torch::randn({2}));
    }
    torch::nn::Linear a{nullptr}, b{nullptr};
    torch::Tensor unused;
  } w;
  deca::Adam other(named(w), options());
  try {
    other.load(dir.path() / "optimizer.safetensors", torch::kCPU);
    FAIL() << "loaded a state of other shapes";
  } catch (const deca::DataError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("a.weight.exp_avg"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[4, 5]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[4, 6]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("optimizer.safetensors"), std::string::npos) << msg;
  }
}
