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
  deca::AdamOptions options(double clip = 0.5) const {
    deca::AdamOptions o{0.9, 0.98, 1e-9, clip};
    o.tensor_ops_on_cpu = GetParam();
    return o;
  }
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Paths, Adam, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "TensorOps" : "FusedCpu"; });

TEST_P(Adam, MatchesLibTorchAdamWithClipping) {
  torch::manual_seed(3);
  Toy ours, theirs;
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < ours.parameters().size(); ++i) theirs.parameters()[i].copy_(ours.parameters()[i]);
  }
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
    EXPECT_TRUE(torch::allclose(ours.parameters()[i], theirs.parameters()[i], 1e-5, 1e-7)) << ours.named_parameters().keys()[i];
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
  torch::manual_seed(4);
  Toy m;
  deca::Adam adam(named(m), options());
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
  deca::Adam clean(named(again), options());
  for (int i = 0; i < 2; ++i) {
    clean.zero_grad();
    const auto l = again.loss(x);
    l.backward();
    clean.step(l, 0.01);
  }
  expect_bit_identical(snapshot(again, clean), snapshot(m, adam));
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
  deca::testing::TempDir dir("adam");
  torch::manual_seed(6);
  Toy m;
  deca::Adam adam(named(m), options());
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
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < copy.parameters().size(); ++i) copy.parameters()[i].copy_(m.parameters()[i]);
  }
  deca::Adam loaded(named(copy), options());
  loaded.load(dir.path() / "optimizer.safetensors", torch::kCPU);
  expect_bit_identical(snapshot(m, adam), snapshot(copy, loaded));
  train(m, adam);
  train(copy, loaded);
  expect_bit_identical(snapshot(m, adam), snapshot(copy, loaded));
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
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < ours.parameters().size(); ++i) ours.parameters()[i].copy_(theirs.parameters()[i]);
  }
  deca::Adam adam(named(ours), [&] { auto o = options(0); o.beta2 = 0.999; o.eps = 1e-8; return o; }());
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
