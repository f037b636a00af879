// Greedy and beam search on a briefly trained model: reported scores are the
// model's scores, beam 1 is the argmax path, n-best lists are sorted,
// predictions come back in data order whatever the batching.
//
// What beam search guarantees and what it does not: it returns the best of
// the hypotheses it kept, scored exactly as the model scores them; it does
// NOT guarantee a score at least greedy's (greedy's prefix can fall out of
// the beam), so no test asserts that. Float32 results also differ slightly
// between CPUs and batch shapes, so comparisons across batch shapes allow
// for near-ties instead of asserting bit equality.
#include <algorithm>
#include <atomic>
#include <limits>
#include <random>

#include "deca/core/error.h"
#include "deca/data/splits.h"
#include "deca/infer/checkpoint.h"
#include "deca/infer/predict.h"
#include "deca/model/decode.h"
#include "deca/model/parallel.h"
#include "deca/train/trainer.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

class DecodeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = deca::testing::unique_temp_path("deca-decode");
    const auto config = deca::testing::tiny_config(dir_ / "run", nlohmann::json::parse(R"({
      "data": {"max_context_tokens": null},
      "batching": {"max_tokens": 1500},
      "curriculum": [{"tasks": ["squad", "woz.en", "wikisql"]}],
      "training": {"steps": 40, "lr_schedule": "constant", "lr": 0.005, "warmup": null, "log_every": 40, "save_every": 40,
                   "keep_last": null, "seed": null}
    })"));
    deca::Trainer trainer(config, {});
    ASSERT_EQ(trainer.run(), 0);
    loaded_ = std::make_unique<deca::LoadedModel>(deca::load_checkpoint(dir_ / "run", torch::kCPU));
    const auto task = deca::find_task("squad", loaded_->config.data.data_root);
    examples_ = deca::read_split(*task, loaded_->config, deca::Split::Validation);
    data_ = deca::encode(examples_, *loaded_->predictor.tokenizer, {});
  }
  static void TearDownTestSuite() {
    loaded_.reset();
    fs::remove_all(dir_);
  }
  static deca::SplitPredictions run(const deca::model::DecodeOptions& o, long budget = 3000) {
    deca::EvalOptions options;
    options.max_tokens = budget;
    options.decode = o;
    return deca::predict_split(loaded_->predictor, data_, options);
  }
  static inline fs::path dir_;
  static inline std::unique_ptr<deca::LoadedModel> loaded_;
  static inline std::vector<deca::Example> examples_;
  static inline deca::EncodedSplit data_;
};

// |a - b| within float32 rounding of a sum of log-probabilities.
bool close_scores(double a, double b) { return std::fabs(a - b) <= 1e-4 * std::max(1.0, std::fabs(a)); }

TEST_F(DecodeTest, ScoresAreTheModelsScores) {
  deca::model::DecodeOptions o;
  o.beam = 3;
  o.nbest = 3;
  o.length_penalty = 0;
  const auto p = run(o);
  const std::vector<uint32_t> rows = {0, 1, 2, 3};
  const auto batch = deca::model::make_batch(data_, rows, loaded_->predictor.vocab, torch::kCPU, false);
  std::vector<std::vector<int32_t>> tokens;
  for (auto r : rows) tokens.push_back(p.nbest[r].front().tokens);
  const auto scores = deca::model::sequence_scores(*loaded_->predictor.model, batch, loaded_->predictor.vocab, tokens);
  for (size_t i = 0; i < rows.size(); ++i)
    EXPECT_TRUE(close_scores(scores[i], p.nbest[rows[i]].front().score))
        << scores[i] << " vs " << p.nbest[rows[i]].front().score;
  for (const auto& hyps : p.nbest) {
    ASSERT_FALSE(hyps.empty());
    for (size_t k = 1; k < hyps.size(); ++k) EXPECT_GE(hyps[k - 1].normalized, hyps[k].normalized);
  }
}

// Beam 1 follows the argmax of each step, computed here with the model's own
// start/step on the same batch (same shapes, so the same floats).
TEST_F(DecodeTest, BeamOfOneIsTheArgmaxPath) {
  const std::vector<uint32_t> rows = {0, 1, 2, 3, 4};
  const auto batch = deca::model::make_batch(data_, rows, loaded_->predictor.vocab, torch::kCPU, false);
  deca::model::DecodeOptions greedy;
  greedy.max_length = 30;
  const auto hyps = deca::model::decode(*loaded_->predictor.model, batch, loaded_->predictor.vocab, greedy);
  torch::NoGradGuard no_grad;
  auto state = loaded_->predictor.model->start(batch);
  auto previous = torch::full({static_cast<int64_t>(rows.size())}, loaded_->predictor.vocab.bos, torch::kInt64);
  std::vector<std::vector<int32_t>> argmax(rows.size());
  std::vector<bool> ended(rows.size(), false);
  std::vector<double> score(rows.size(), 0.0);
  for (int64_t t = 0; t < greedy.max_length; ++t) {
    const auto logp = loaded_->predictor.model->step(*state, previous).to(torch::kFloat64);
    // Decoding never emits <pad> or <bos> (DecodeNeverEmitsPadOrBos).
    const auto never = torch::tensor({loaded_->predictor.vocab.pad, loaded_->predictor.vocab.bos}, torch::kInt64);
    const auto best = logp.index_fill(1, never, -std::numeric_limits<double>::infinity()).argmax(1);
    for (size_t r = 0; r < rows.size(); ++r) {
      const int64_t token = best[static_cast<int64_t>(r)].item<int64_t>();
      if (ended[r]) continue;
      score[r] += logp[static_cast<int64_t>(r)][token].item<double>();
      if (token == loaded_->predictor.vocab.eos)
        ended[r] = true;
      else
        argmax[r].push_back(static_cast<int32_t>(token));
    }
    previous = best;
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    ASSERT_EQ(hyps[r].size(), 1u);
    EXPECT_EQ(hyps[r][0].tokens, argmax[r]) << "row " << r;
    EXPECT_TRUE(close_scores(hyps[r][0].score, score[r])) << "row " << r;
  }
}

// Where two greedy answers of example r first differ, the gap between the
// log-probabilities of their two tokens (end of answer counts as a token).
double first_divergence_gap(const deca::EncodedSplit& data, const deca::LoadedModel& m, uint32_t r,
                            const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  torch::NoGradGuard no_grad;
  const auto batch = deca::model::make_batch(data, {r}, m.predictor.vocab, torch::kCPU, false);
  auto state = m.predictor.model->start(batch);
  auto previous = torch::full({1}, m.predictor.vocab.bos, torch::kInt64);
  for (size_t t = 0;; ++t) {
    const auto logp = m.predictor.model->step(*state, previous).to(torch::kFloat64);
    const int64_t ta = t < a.size() ? a[t] : m.predictor.vocab.eos, tb = t < b.size() ? b[t] : m.predictor.vocab.eos;
    if (ta != tb) return std::fabs(logp[0][ta].item<double>() - logp[0][tb].item<double>());
    if (ta == m.predictor.vocab.eos) return 0;
    previous = torch::full({1}, ta, torch::kInt64);
  }
}

// Different batch compositions give the same answers in data order; an answer
// may only differ at a near-tie (two tokens the model scores the same up to
// rounding, which another batch shape's float32 kernels can flip).
TEST_F(DecodeTest, BatchingDoesNotChangeAnswersOrOrder) {
  deca::model::DecodeOptions greedy;
  const auto big = run(greedy, 100000), small = run(greedy, 200);
  ASSERT_EQ(big.answers.size(), small.answers.size());
  long differing = 0;
  for (uint32_t r = 0; r < big.answers.size(); ++r) {
    if (big.answers[r] == small.answers[r]) continue;
    ++differing;
    EXPECT_LT(first_divergence_gap(data_, *loaded_, r, big.nbest[r].front().tokens, small.nbest[r].front().tokens),
              1e-3)
        << "example " << r << ": \"" << big.answers[r] << "\" vs \"" << small.answers[r] << "\"";
  }
  EXPECT_LE(differing, static_cast<long>(big.answers.size()) / 10) << "too many answers depend on the batch";
  // One example at a time gives the same answers: order restored.
  for (uint32_t r : {0u, 5u, 11u}) {
    const auto batch = deca::model::make_batch(data_, {r}, loaded_->predictor.vocab, torch::kCPU, false);
    const auto h = deca::model::decode(*loaded_->predictor.model, batch, loaded_->predictor.vocab, greedy);
    if (loaded_->predictor.tokenizer->decode(h[0][0].tokens) == big.answers[r]) continue;
    EXPECT_LT(first_divergence_gap(data_, *loaded_, r, h[0][0].tokens, big.nbest[r].front().tokens), 1e-3)
        << "example " << r;
  }
}

// Batches decoded side by side, a thread each, give what one batch at a time
// gives: the same batches (three share three times the budget) through the
// same single-threaded kernels, bit for bit.
TEST_F(DecodeTest, ConcurrentBatchesGiveTheSameAnswersAndScores) {
  const int threads = torch::get_num_threads();
  torch::set_num_threads(1);
  deca::EvalOptions options;
  options.max_tokens = 400;
  options.decode.beam = 2;
  options.decode.nbest = 2;
  options.concurrent_batches = 1;
  const auto one = deca::predict_split(loaded_->predictor, data_, options);
  options.max_tokens = 3 * 400;
  options.concurrent_batches = 3;
  std::vector<size_t> progress;
  const auto three =
      deca::predict_split(loaded_->predictor, data_, options, [&](size_t done, size_t) { progress.push_back(done); });
  torch::set_num_threads(threads);
  ASSERT_GT(progress.size(), 3u) << "the split should need several batches";
  EXPECT_EQ(progress.back(), data_.size());
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
  EXPECT_EQ(three.rows, one.rows);
  EXPECT_EQ(three.answers, one.answers);
  EXPECT_EQ(three.generated_tokens, one.generated_tokens);
  for (size_t r = 0; r < one.nbest.size(); ++r) {
    ASSERT_EQ(three.nbest[r].size(), one.nbest[r].size()) << "example " << r;
    for (size_t b = 0; b < one.nbest[r].size(); ++b) {
      EXPECT_EQ(three.nbest[r][b].tokens, one.nbest[r][b].tokens) << "example " << r;
      EXPECT_EQ(three.nbest[r][b].score, one.nbest[r][b].score) << "example " << r;
    }
  }
}

TEST(RunWorkers, EveryWorkerRunsOnceAndTheFirstFailureIsRethrown) {
  std::vector<std::atomic<int>> runs(5);
  deca::model::run_workers(5, [&](int w) { ++runs[static_cast<size_t>(w)]; });
  for (const auto& r : runs) EXPECT_EQ(r.load(), 1);
  std::atomic<int> finished{0};
  EXPECT_THROW(deca::model::run_workers(3,
                                        [&](int w) {
                                          if (w == 1) throw deca::Error("worker 1 failed");
                                          ++finished;
                                        }),
               deca::Error);
  EXPECT_EQ(finished.load(), 2) << "the other workers still run to their end";
}

}  // namespace

namespace {

// The decoder's cap counts words (the tokenizer's revtok tokens), not pieces.
TEST_F(DecodeTest, TheLengthCapCountsWords) {
  for (int64_t beam : {1, 3}) {
    deca::model::DecodeOptions o;
    o.beam = beam;
    o.max_length = 2;
    const auto p = run(o);
    size_t longest = 0;
    for (const auto& hyps : p.nbest) {
      ASSERT_FALSE(hyps.empty());
      for (const auto& h : hyps) {
        EXPECT_LE(loaded_->predictor.tokenizer->count_words(h.tokens), 2u)
            << loaded_->predictor.tokenizer->decode(h.tokens);
        EXPECT_LE(static_cast<int64_t>(h.tokens.size()), o.max_steps());
        longest = std::max(longest, loaded_->predictor.tokenizer->count_words(h.tokens));
      }
    }
    EXPECT_GE(longest, 1u);
  }
}

// A model whose every step ranks <bos>, then <pad>, then one word piece, then
// <eos>: decoding emits the word piece up to the length cap (an untrained
// MQAN's pointer copying the inputs' leading <init> = <bos> was the case).
class PrefersSpecialTokens : public deca::model::Seq2Seq {
 public:
  static constexpr int64_t kWord = 7;
  struct State : deca::model::DecoderState {
    void select(const torch::Tensor&) override {}
    void reorder(const torch::Tensor&) override {}
  };
  explicit PrefersSpecialTokens(const deca::model::Vocabulary& v) : v_(v) {}
  torch::Tensor loss(const deca::model::Batch&) override { return torch::zeros({}); }
  std::unique_ptr<deca::model::DecoderState> start(const deca::model::Batch&, deca::model::OutputPrecision) override {
    return std::make_unique<State>();
  }
  torch::Tensor step(deca::model::DecoderState&, const torch::Tensor& previous) override {
    auto logits = torch::full({previous.size(0), v_.size}, -20.0f);
    logits.index_put_({torch::indexing::Slice(), v_.bos}, 4.0f);
    logits.index_put_({torch::indexing::Slice(), v_.pad}, 3.0f);
    logits.index_put_({torch::indexing::Slice(), kWord}, 2.0f);
    logits.index_put_({torch::indexing::Slice(), v_.eos}, 1.0f);
    return torch::log_softmax(logits, 1);
  }
  std::pair<torch::Tensor, torch::Tensor> step_top(deca::model::DecoderState& s, const torch::Tensor& previous,
                                                   int64_t width) override {
    auto [values, ids] = step(s, previous).topk(width, 1);
    return {values, ids};
  }

 private:
  deca::model::Vocabulary v_;
};

TEST(DecodeSpecialTokens, NeverEmitsPadOrBos) {
  deca::model::Vocabulary v;
  v.size = 12;  // 0 pad, 2 bos, 3 eos; every other piece is a word
  PrefersSpecialTokens model(v);
  deca::model::Batch batch;
  batch.context = torch::ones({2, 3}, torch::kInt64);
  for (int64_t beam : {1, 2}) {
    deca::model::DecodeOptions o;
    o.beam = beam;
    o.max_length = 3;
    const auto hyps = deca::model::decode(model, batch, v, o);
    ASSERT_EQ(hyps.size(), 2u);
    for (const auto& h : hyps) {
      ASSERT_EQ(h.size(), 1u);
      ASSERT_FALSE(h[0].tokens.empty()) << "beam " << beam;
      for (int32_t t : h[0].tokens) {
        EXPECT_TRUE(t != v.pad && t != v.bos) << "beam " << beam;
      }
      // Greedy: the word piece up to the cap. Beams end earlier: <eos> is among their best candidates.
      if (beam == 1) {
        EXPECT_EQ(h[0].tokens, std::vector<int32_t>(3, PrefersSpecialTokens::kWord));
      }
    }
  }
}

}  // namespace
