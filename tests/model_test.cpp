// MQAN and S2S on real batches of the sample data: shapes, a finite loss that
// backpropagates, and decoding steps that agree with the teacher-forced pass.
#include <cstring>
#include <map>
#include <random>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/data/encoded.h"
#include "deca/model/layers.h"
#include "deca/model/model.h"
#include "deca/model/safetensors.h"
#include "deca/tasks/task.h"
#include "test_support.h"

namespace fs = std::filesystem;
using deca::model::Vocabulary;

namespace {

class ModelTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    torch::manual_seed(0);
    dir_ = deca::testing::unique_temp_path("deca-model");
    const fs::path root = deca::testing::source_dir() / "data" / "sample";
    std::vector<std::string> texts;
    examples_ = deca::find_task("squad", root)->read(root, deca::Split::Train);
    for (const auto& ex : examples_) {
      texts.push_back(ex.context);
      texts.push_back(ex.question);
    }
    deca::TokenizerOptions o;
    o.vocab_size = 500;
    deca::Tokenizer::train(texts, o, dir_ / "tok.model", 3);
    tok_ = deca::Tokenizer::load(dir_ / "tok.model");
    data_ = deca::encode(examples_, *tok_, {});
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  void teacher_forced_gradients_match_stepwise(int64_t vocab_size);

  static Vocabulary vocab() {
    Vocabulary v;
    v.size = tok_->vocab_size();
    v.pad = tok_->pad_id();
    v.bos = tok_->bos_id();
    v.eos = tok_->eos_id();
    v.context_marker = tok_->encode("Context:");
    v.question_marker = tok_->encode("Question:");
    return v;
  }
  static deca::ModelOptions small(const std::string& type) {
    deca::ModelOptions m;
    m.type = type;
    m.dimension = 32;
    m.embedding_dim = 24;
    m.transformer_hidden = 40;
    m.transformer_heads = 3;  // 11/11/10: unequal chunks as in decaNLP's 67/67/66
    return m;
  }

  static inline fs::path dir_;
  static inline std::vector<deca::Example> examples_;
  static inline std::shared_ptr<const deca::Tokenizer> tok_;
  static inline deca::EncodedSplit data_;
};

TEST_P(ModelTest, LossIsFiniteAndBackpropagates) {
  auto model = deca::model::make_model(small(GetParam()), vocab());
  model->train();
  const auto batch = deca::model::make_batch(data_, {0, 1, 2, 3, 4}, vocab(), torch::kCPU);
  auto loss = model->loss(batch);
  ASSERT_EQ(loss.dim(), 0);
  EXPECT_TRUE(std::isfinite(loss.item<double>()));
  EXPECT_GT(loss.item<double>(), 0.0);
  loss.backward();
  int64_t with_grad = 0;
  for (const auto& p : model->parameters()) {
    if (!p.grad().defined()) continue;
    const auto g = p.grad().is_sparse() ? p.grad().to_dense() : p.grad();  // the embedding's is sparse
    if (g.abs().sum().item<double>() > 0) ++with_grad;
  }
  EXPECT_GT(with_grad, static_cast<int64_t>(model->parameters().size() * 3 / 4));
}

// Feeding the gold answer step by step gives the same per-token log-likelihood
// as the teacher-forced loss: the incremental decoder equals the training pass.
TEST_P(ModelTest, IncrementalDecodingMatchesTeacherForcing) {
  auto model = deca::model::make_model(small(GetParam()), vocab());
  model->eval();
  torch::NoGradGuard no_grad;
  // Answers of a sentence or two, so that MQAN's self-attention cache grows
  // while decoding (room for 8 steps, then 16, then 32).
  std::vector<deca::Example> long_answers = {examples_[5], examples_[6]};
  for (auto& ex : long_answers) ex.answers = {ex.context.substr(0, 120) + " " + ex.answer()};
  const auto data = deca::encode(long_answers, *tok_, {});
  const auto batch = deca::model::make_batch(data, {0, 1}, vocab(), torch::kCPU);
  ASSERT_GT(batch.answer_in.size(1), 16);
  const double loss = model->loss(batch).item<double>();
  auto state = model->start(batch);
  double nll = 0;
  long count = 0;
  for (int64_t t = 0; t < batch.answer_in.size(1); ++t) {
    auto logp = model->step(*state, batch.answer_in.select(1, t));
    auto target = batch.answer_out.select(1, t);
    for (int64_t i = 0; i < target.size(0); ++i) {
      if (target[i].item<int64_t>() == vocab().pad) continue;
      nll -= logp[i][target[i].item<int64_t>()].item<double>();
      ++count;
    }
  }
  EXPECT_NEAR(nll / static_cast<double>(count), loss, 1e-4 * std::max(1.0, loss));
}

// The gradients of the teacher-forced loss (its output layer's normaliser
// computed a chunk of rows at a time, at the targets' positions only) equal
// those of the same mean taken from the decoder's full step-by-step
// distributions. An output vocabulary of 400,000 gives chunks of 10 rows, so
// the batch's targets span several and backward recomputes them; the small
// vocabulary's logits are few and kept for backward.
TEST_P(ModelTest, TeacherForcedGradientsMatchStepwiseDistributions) {
  for (const int64_t size : {int64_t{400000}, vocab().size}) {
    SCOPED_TRACE("output vocabulary " + std::to_string(size));
    teacher_forced_gradients_match_stepwise(size);
  }
}

void ModelTest::teacher_forced_gradients_match_stepwise(int64_t vocab_size) {
  auto v = vocab();
  v.size = vocab_size;
  torch::manual_seed(11);
  auto model = deca::model::make_model(small(GetParam()), v);
  model->eval();
  const auto batch = deca::model::make_batch(data_, {0, 1, 2, 3, 4, 5, 6, 7}, vocab(), torch::kCPU);
  ASSERT_GT(batch.target_tokens, 20);
  auto grads_of = [&](const torch::Tensor& loss) {
    const auto params = model->parameters();
    auto g = torch::autograd::grad({loss}, params, {}, false, false, /*allow_unused=*/true);
    for (size_t i = 0; i < g.size(); ++i) {
      if (!g[i].defined())
        g[i] = torch::zeros_like(params[i]);
      else if (g[i].is_sparse())
        g[i] = g[i].to_dense();  // the embedding's
    }
    return g;
  };
  const auto loss = model->loss(batch);
  const auto g_loss = grads_of(loss);
  auto state = model->start(batch);
  torch::Tensor nll = torch::zeros({});
  for (int64_t t = 0; t < batch.answer_in.size(1); ++t) {
    const auto logp = model->step(*state, batch.answer_in.select(1, t));
    const auto target = batch.answer_out.select(1, t);
    const auto mask = target.ne(v.pad);
    nll = nll - logp.gather(1, target.unsqueeze(1)).squeeze(1).masked_select(mask).sum();
  }
  nll = nll / static_cast<double>(batch.target_tokens);
  EXPECT_NEAR(loss.item<double>(), nll.item<double>(), 1e-4 * nll.item<double>());
  const auto g_steps = grads_of(nll);
  const auto names = model->named_parameters().keys();
  for (size_t i = 0; i < g_loss.size(); ++i)
    EXPECT_TRUE(torch::allclose(g_loss[i], g_steps[i], 1e-3, 1e-6))
        << names[i] << ": max difference " << (g_loss[i] - g_steps[i]).abs().max().item<double>();
}

// A batch's loss is the token-weighted mean of the losses of its parts: the
// padding a part gets from its own longest example changes nothing, which is
// what lets several processes split a batch (deca/train/trainer.cpp).
TEST_P(ModelTest, BatchLossIsTheTokenWeightedMeanOfItsParts) {
  auto o = small(GetParam());
  o.dropout = o.coattention_dropout = o.feedforward_dropout = 0;  // else each part draws its own
  auto model = deca::model::make_model(o, vocab());
  model->train();
  torch::NoGradGuard no_grad;
  const std::vector<uint32_t> all = {0, 1, 2, 3, 4, 5, 6, 7}, even = {0, 2, 4, 6}, odd = {1, 3, 5, 7};
  auto loss_of = [&](const std::vector<uint32_t>& rows, long* tokens) {
    const auto batch = deca::model::make_batch(data_, rows, vocab(), torch::kCPU);
    *tokens = batch.target_tokens;
    return model->loss(batch).item<double>();
  };
  long t_all = 0, t_even = 0, t_odd = 0;
  const double whole = loss_of(all, &t_all);
  const double parts =
      (loss_of(even, &t_even) * static_cast<double>(t_even) + loss_of(odd, &t_odd) * static_cast<double>(t_odd)) /
      static_cast<double>(t_all);
  ASSERT_EQ(t_even + t_odd, t_all);
  EXPECT_NEAR(parts, whole, 1e-5 * whole);
}

// Decoding's step_top ranks each step's tokens without the (B, V)
// distribution on the CPU (the packed output layer, the copied ids scored on
// their own): the same tokens and log-probabilities as the top of step()'s
// full distribution, where the copies lead (an untrained model's switch) and
// where the vocabulary does (output biases raised).
TEST_P(ModelTest, StepTopEqualsTheTopOfTheFullDistribution) {
  auto model = deca::model::make_model(small(GetParam()), vocab());
  model->eval();
  torch::NoGradGuard no_grad;
  const auto batch = deca::model::make_batch(data_, {0, 1, 2, 3, 4, 5, 6, 7, 8}, vocab(), torch::kCPU, false);
  const auto context = batch.context.flatten();
  const int64_t width = 6;
  for (bool vocabulary_leads : {false, true}) {
    if (vocabulary_leads) model->named_parameters()["out.bias"].narrow(0, 40, 3).add_(9.0);
    auto full = model->start(batch), top = model->start(batch);
    auto previous = torch::full({batch.context.size(0)}, vocab().bos, torch::kInt64);
    long copied = 0, boosted = 0;
    for (int t = 0; t < 6; ++t) {
      const auto [want_values, want_ids] = model->step(*full, previous).topk(width, 1);
      const auto [values, ids] = model->step_top(*top, previous, width);
      ASSERT_EQ(ids.sizes(), want_ids.sizes());
      EXPECT_TRUE(torch::equal(ids, want_ids)) << "step " << t << "\n" << ids << "\n" << want_ids;
      EXPECT_TRUE(torch::allclose(values, want_values, 1e-5, 1e-5)) << "step " << t;
      for (int64_t r = 0; r < ids.size(0); ++r) {
        const int64_t best = ids[r][0].item<int64_t>();
        copied += context.eq(best).any().item<bool>() ? 1 : 0;
        boosted += best >= 40 && best < 43 ? 1 : 0;
      }
      previous = want_ids.select(1, 0).contiguous();
    }
    // Both regimes were exercised.
    if (vocabulary_leads)
      EXPECT_GT(boosted, 40);
    else
      EXPECT_GT(copied, 40);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, ModelTest, ::testing::Values("mqan", "s2s"));

// Contexts and questions are framed <init> ... <eos> (decaNLP), so that the
// pointer can copy the end; models of the first tokenizer scheme read them bare.
TEST(MakeBatch, FramesContextsAndQuestionsAsDecaNLP) {
  deca::EncodedSplit data;
  data.ids = {10, 11, 12, 20, 30, 31};
  data.spans = {{0, 3}, {3, 1}, {4, 2}, {0, 0}, {3, 0}, {4, 2}};  // example 1: empty context and question
  data.source = {0, 1};
  Vocabulary v;
  v.size = 40;
  auto b = deca::model::make_batch(data, {0, 1}, v, torch::kCPU);
  EXPECT_TRUE(torch::equal(b.context[0], torch::tensor({v.bos, 10L, 11L, 12L, v.eos})));
  EXPECT_TRUE(torch::equal(b.context[1], torch::tensor({v.bos, v.eos, v.pad, v.pad, v.pad})));
  EXPECT_TRUE(torch::equal(b.question[0], torch::tensor({v.bos, 20L, v.eos})));
  EXPECT_EQ(b.context_lengths[0].item<int64_t>(), 5);
  EXPECT_EQ(b.context_lengths[1].item<int64_t>(), 2);
  EXPECT_TRUE(torch::equal(b.answer_out[0], torch::tensor({30L, 31L, v.eos})));
  v.frame_inputs = false;
  b = deca::model::make_batch(data, {0, 1}, v, torch::kCPU);
  EXPECT_TRUE(torch::equal(b.context[0], torch::tensor({10L, 11L, 12L})));
  EXPECT_TRUE(torch::equal(b.context[1], torch::tensor({v.eos, v.pad, v.pad})));
  EXPECT_EQ(b.context_lengths[1].item<int64_t>(), 1);
}

TEST(ModelSize, DecanlpDimensionsGiveTheReferenceCoreSize) {
  // With decaNLP's sizes the layers other than embeddings and the output layer
  // have the reference's parameter counts (docs/decisions.md, Model).
  deca::ModelOptions o;
  Vocabulary v;
  v.size = 50000;
  o.embedding_dim = 400;  // the reference's 400-wide (GloVe + char) inputs
  auto model = deca::model::make_model(o, v);
  const int64_t total = deca::model::parameter_count(*model);
  // Reference §4.5: projections 160,400 + shared BiLSTM 241,600 + coattention 40,600
  // + post-coattention BiLSTMs 1,443,200 + self-attention encoders 724,600 + final
  // BiLSTMs 483,200 + transformer decoder 603,100 + dual-pointer decoder 723,202
  // + output layer 10,050,000 = 14,469,902, of which 80,000 are the decoder
  // attentions' unused linear_in weights, which deca does not create. deca's
  // embedding table is trainable and counted on top.
  EXPECT_EQ(total - 50000 * 400, 14469902 - 80000);
}

// model.coattention_init and model.embedding_init_std change only what they
// name: every other parameter is drawn as by the default, from the same seed.
TEST(ModelInit, CoattentionIdentityAndEmbeddingScaleChangeOnlyTheirParameters) {
  deca::ModelOptions o;
  o.dimension = 16;
  o.embedding_dim = 12;
  o.transformer_hidden = 16;
  o.transformer_heads = 2;
  o.coattention_init = "pytorch";  // decaNLP's draw
  Vocabulary v;
  v.size = 300;
  auto build = [&](const deca::ModelOptions& options) {
    torch::manual_seed(5);
    std::map<std::string, torch::Tensor> params;
    for (const auto& p : deca::model::make_model(options, v)->named_parameters()) params[p.key()] = p.value().detach();
    return params;
  };
  const auto base = build(o);
  deca::ModelOptions changed = o;
  changed.coattention_init = "identity";
  changed.embedding_init_std = 0.25;
  const auto other = build(changed);
  ASSERT_EQ(base.size(), other.size());
  for (const auto& [name, x] : base) {
    const auto& y = other.at(name);
    if (name == "coattention_proj.linear.weight") {
      EXPECT_TRUE(torch::equal(y, torch::eye(16))) << name;
    } else if (name == "coattention_proj.linear.bias") {
      EXPECT_TRUE(torch::equal(y, torch::zeros({16}))) << name;
    } else if (name == "embedding.weight") {
      EXPECT_TRUE(torch::equal(y, x * 0.25)) << name;
    } else {
      EXPECT_TRUE(torch::equal(x, y)) << name << " changed";
    }
  }
}

}  // namespace

TEST(Safetensors, RoundTripByParameterNameInTheStandardLayout) {
  deca::ModelOptions o;
  o.dimension = 16;
  o.embedding_dim = 8;
  o.transformer_hidden = 8;
  o.transformer_heads = 2;
  Vocabulary v;
  v.size = 50;
  torch::manual_seed(3);
  auto a = deca::model::make_model(o, v);
  const fs::path file =
      fs::temp_directory_path() / ("deca-st-" + std::to_string(std::random_device{}()) + ".safetensors");
  deca::model::save_safetensors(*a, file, {{"model", "mqan"}});
  // The standard layout: 8-byte little-endian header size, JSON header, data.
  const std::string bytes = deca::read_file(file);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  const auto header = nlohmann::json::parse(bytes.substr(8, n));
  EXPECT_EQ(header["__metadata__"]["model"], "mqan");
  EXPECT_EQ(header["out.weight"]["dtype"], "F32");
  EXPECT_EQ(header["out.weight"]["shape"], nlohmann::json::array({50, 16}));
  EXPECT_EQ(header["embedding.weight"]["shape"], nlohmann::json::array({50, 8}));
  EXPECT_EQ((8 + n) % 8, 0u);
  torch::manual_seed(4);
  auto b = deca::model::make_model(o, v);
  deca::model::load_safetensors(*b, file);
  auto pa = a->named_parameters(), pb = b->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
  // A model of another shape: the error names the tensor.
  o.dimension = 18;
  auto c = deca::model::make_model(o, v);
  try {
    deca::model::load_safetensors(*c, file);
    ADD_FAILURE() << "expected a shape error";
  } catch (const deca::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("has shape"), std::string::npos) << e.what();
  }
  fs::remove(file);
}

// deca's masked CPU LSTM equals nn::LSTM over packed sequences: outputs,
// final states and gradients.
TEST(PackedLSTM, MaskedLoopEqualsPackedSequences) {
  torch::manual_seed(5);
  const int threads = torch::get_num_threads();
  // One thread: the directions one after the other; two: side by side.
  for (int64_t layers : {1, 2, 3}) {
    torch::set_num_threads(layers == 2 ? 1 : 2);
    deca::model::PackedLSTM lstm(6, 8, true, layers, 0.0);
    lstm->eval();
    auto x = torch::randn({4, 7, 6}, torch::requires_grad());
    auto lengths = torch::tensor({7, 3, 5, 1}, torch::kInt64);
    auto [o1, h1, c1] = lstm->forward(x, lengths);
    auto [o2, h2, c2] = lstm->forward_packed(x, lengths);
    // Two float32 algorithms: equal up to rounding, which differs between CPUs' kernels.
    EXPECT_TRUE(torch::allclose(o1, o2, 1e-4, 1e-5)) << "outputs, layers " << layers;
    EXPECT_TRUE(torch::allclose(h1, h2, 1e-4, 1e-5)) << "h, layers " << layers;
    EXPECT_TRUE(torch::allclose(c1, c2, 1e-4, 1e-5)) << "c, layers " << layers;
    // Gradients of the input and of every weight (the fused recurrence
    // computes the recurrent weights' gradient itself).
    std::vector<torch::Tensor> wrt{x};
    for (const auto& w : lstm->rnn->all_weights()) wrt.push_back(w);
    auto g1 = torch::autograd::grad({(o1 * o1).sum() + h1.sum() + (c1 * c1).sum()}, wrt);
    auto g2 = torch::autograd::grad({(o2 * o2).sum() + h2.sum() + (c2 * c2).sum()}, wrt);
    for (size_t i = 0; i < wrt.size(); ++i)
      EXPECT_TRUE(torch::allclose(g1[i], g2[i], 1e-3, 1e-5)) << "gradient " << i << ", layers " << layers;
    // Without autograd: one direction at a time, the same states.
    torch::NoGradGuard no_grad;
    auto [o3, h3, c3] = lstm->forward(x, lengths);
    EXPECT_TRUE(torch::allclose(o3, o2, 1e-4, 1e-5)) << "outputs without autograd, layers " << layers;
    EXPECT_TRUE(torch::allclose(h3, h2, 1e-4, 1e-5)) << "h without autograd, layers " << layers;
    EXPECT_TRUE(torch::allclose(c3, c2, 1e-4, 1e-5)) << "c without autograd, layers " << layers;
  }
  torch::set_num_threads(threads);
}

// Without autograd on the CPU, LayerNorm and the pointer decoder's attention
// run deca's one-pass kernels; they equal what training computes (same inputs
// with autograd on).
TEST(InferenceKernels, LayerNormEqualsTheTrainingComposition) {
  torch::manual_seed(6);
  deca::model::LayerNorm norm(200);
  norm->gamma.data().normal_();
  norm->beta.data().normal_();
  for (const auto& shape : std::vector<std::vector<int64_t>>{{1, 200}, {3, 300, 200}, {7, 1, 200}}) {
    const auto x = torch::randn(shape) * 3 + 1;
    const auto trained = norm->forward(x);
    torch::NoGradGuard no_grad;
    const auto inferred = norm->forward(x.transpose(0, 1).contiguous().transpose(0, 1));  // a strided input too
    EXPECT_TRUE(torch::allclose(trained, inferred, 1e-5, 1e-5)) << (trained - inferred).abs().max().item<float>();
  }
}

// In training on the CPU LayerNorm is one autograd node (it keeps the
// normalised input for backward, not the composition's three tensors): its
// output and gradients equal the composition's, computed in float64; its
// parameters' gradients are the same with one thread or two; a constant row
// (std 0, where std's own gradient is 0 / 0) takes a finite gradient.
TEST(TrainingKernels, LayerNormEqualsTheCompositionInFloat64) {
  torch::manual_seed(9);
  deca::model::LayerNorm norm(200);
  norm->gamma.data().normal_();
  norm->beta.data().normal_();
  const int threads = torch::get_num_threads();
  for (const auto& shape : std::vector<std::vector<int64_t>>{{1, 200}, {3, 300, 200}, {130, 7, 200}}) {
    const auto x = (torch::randn(shape) * 3 + 1).requires_grad_();
    const auto up = torch::randn(shape);
    std::vector<torch::Tensor> grads[2];
    for (int t : {1, 2}) {
      torch::set_num_threads(t);
      const auto y = norm->forward(x.transpose(0, 1).contiguous().transpose(0, 1));  // a strided input too
      grads[t - 1] = torch::autograd::grad({(y * up).sum()}, {x, norm->gamma, norm->beta});
      if (t == 1) {
        const auto xd = x.detach().to(torch::kDouble).requires_grad_();
        const auto gd = norm->gamma.detach().to(torch::kDouble).requires_grad_();
        const auto bd = norm->beta.detach().to(torch::kDouble).requires_grad_();
        const auto ref = gd * (xd - xd.mean(-1, true)) / (xd.std(-1, true, true) + 1e-6) + bd;
        const auto ref_grads = torch::autograd::grad({(ref * up.to(torch::kDouble)).sum()}, {xd, gd, bd});
        EXPECT_TRUE(torch::allclose(y.to(torch::kDouble), ref, 1e-5, 1e-5));
        for (int k = 0; k < 3; ++k)
          EXPECT_TRUE(torch::allclose(grads[0][k].to(torch::kDouble), ref_grads[k], 1e-4, 1e-4))
              << k << ": " << (grads[0][k].to(torch::kDouble) - ref_grads[k]).abs().max().item<double>();
      }
    }
    torch::set_num_threads(threads);
    EXPECT_TRUE(torch::equal(grads[0][1], grads[1][1]));
    EXPECT_TRUE(torch::equal(grads[0][2], grads[1][2]));
  }
  const auto flat = torch::full({2, 200}, 0.5f).requires_grad_();
  const auto y = norm->forward(flat);
  const auto g = torch::autograd::grad({(y * torch::randn({2, 200})).sum()}, {flat})[0];
  EXPECT_TRUE(torch::isfinite(g).all().item<bool>());
  EXPECT_TRUE(torch::allclose(y, norm->beta.detach().expand({2, 200})));
}

TEST(InferenceKernels, DecoderAttentionEqualsTheTrainingComposition) {
  torch::manual_seed(7);
  deca::model::DecoderAttention attention(16);
  const auto h = torch::randn({5, 16}), memory = torch::randn({5, 9, 16});
  auto padding = torch::zeros({5, 9}, torch::kBool);
  padding.index_put_({1, torch::indexing::Slice(4)}, true);  // rows of 4, 8 and 9 positions
  padding.index_put_({3, torch::indexing::Slice(8)}, true);
  const auto [o1, a1, m1] = attention->forward(h, memory, padding);
  torch::NoGradGuard no_grad;
  const auto [o2, a2, m2] = attention->forward(h, memory, padding);
  EXPECT_TRUE(torch::allclose(o1, o2, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(a1, a2, 1e-5, 1e-7));
  EXPECT_TRUE(torch::allclose(m1, m2, 1e-5, 1e-6));
  EXPECT_LT(a2[1][5].item<float>(), 1e-9f);  // padding: epsilon only
  EXPECT_NEAR(a2[1].sum().item<float>(), 1.0f, 1e-5f);
}

// deca's CPU dropout: the share dropped is p, kept elements are scaled by
// 1 / (1 - p), the gradient is the mask, torch::manual_seed decides the mask
// whatever the thread count, and successive calls draw different masks.
TEST(Dropout, MaskFollowsSeedAndProbability) {
  const auto x = torch::ones({1000, 1001});
  for (double p : {0.1, 0.3, 0.5}) {
    torch::manual_seed(3);
    const auto y = deca::model::dropout(x, p, true);
    const double kept = y.ne(0).to(torch::kDouble).mean().item<double>();
    EXPECT_NEAR(kept, 1 - p, 0.003) << "p " << p;
    EXPECT_TRUE(torch::allclose(y.masked_select(y.ne(0)), torch::full({1}, 1 / (1 - p)))) << "p " << p;
  }
  const int threads = torch::get_num_threads();
  torch::manual_seed(3);
  const auto a = deca::model::dropout(x, 0.3, true), b = deca::model::dropout(x, 0.3, true);
  torch::set_num_threads(1);
  torch::manual_seed(3);
  const auto a1 = deca::model::dropout(x, 0.3, true);
  torch::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(a, a1));
  EXPECT_FALSE(torch::equal(a, b));
  // Neighbouring elements are not correlated (two per hashed word).
  const auto even = a.view(-1).slice(0, 0, -1, 2).ne(0).to(torch::kDouble);
  const auto odd = a.view(-1).slice(0, 1, a.numel(), 2).ne(0).to(torch::kDouble);
  EXPECT_NEAR((even * odd).mean().item<double>(), 0.49, 0.003);
  EXPECT_TRUE(torch::equal(deca::model::dropout(x, 0.3, false), x));

  auto w = torch::randn({50, 40}, torch::requires_grad());
  torch::manual_seed(4);
  const auto z = deca::model::dropout(w, 0.25, true);
  const auto g = torch::autograd::grad({z.sum()}, {w})[0];
  EXPECT_TRUE(torch::equal(g.ne(0), z.ne(0)));
  EXPECT_TRUE(torch::allclose(g.masked_select(g.ne(0)), torch::full({1}, 1 / 0.75)));
  // Backward recomputes the forward's mask, here of a transposed (strided) input
  // under an upstream gradient that is not all ones.
  torch::manual_seed(5);
  const auto zt = deca::model::dropout(w.t(), 0.25, true);
  const auto up = torch::randn(zt.sizes());
  const auto gt = torch::autograd::grad({(zt * up).sum()}, {w})[0];
  EXPECT_TRUE(torch::equal(gt.t(), up * torch::where(zt.ne(0), torch::full({}, 1 / 0.75f), torch::zeros({}))));
  EXPECT_TRUE(torch::equal(zt, w.t() * torch::where(zt.ne(0), torch::full({}, 1 / 0.75f), torch::zeros({}))));
}

// batch_matmul splits a batch's products over the threads: the same products
// and gradients as torch::bmm, on views as attention passes them (a head's
// slice of the features, a transposed operand).
TEST(BatchMatmul, EqualsBmmWithItsGradients) {
  const int threads = torch::get_num_threads();
  torch::set_num_threads(2);
  torch::manual_seed(8);
  const auto q0 = torch::randn({5, 37, 30}, torch::requires_grad()),
             k0 = torch::randn({5, 41, 30}, torch::requires_grad());
  auto run = [&](bool ours) {
    const auto q = q0.narrow(2, 10, 11), k = k0.narrow(2, 10, 11);  // (5, 37, 11), (5, 41, 11)
    const auto s = ours ? deca::model::batch_matmul(q, k.transpose(1, 2)) : torch::bmm(q, k.transpose(1, 2));
    const auto w = torch::softmax(s, -1);
    const auto o = ours ? deca::model::batch_matmul(w, k) : torch::bmm(w, k);
    const auto g = torch::autograd::grad({(o * o).sum()}, {q0, k0});
    return std::vector<torch::Tensor>{s.detach(), o.detach(), g[0], g[1]};
  };
  const auto ours = run(true), theirs = run(false);
  torch::set_num_threads(threads);
  for (size_t i = 0; i < ours.size(); ++i)
    EXPECT_TRUE(torch::allclose(ours[i], theirs[i], 1e-5, 1e-6))
        << "tensor " << i << ": max difference " << (ours[i] - theirs[i]).abs().max().item<double>();
  {
    torch::NoGradGuard no_grad;  // and without autograd
    EXPECT_TRUE(torch::allclose(deca::model::batch_matmul(q0, k0.transpose(1, 2)), torch::bmm(q0, k0.transpose(1, 2)),
                                1e-5, 1e-6));
  }
}
