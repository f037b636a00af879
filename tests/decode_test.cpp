// Greedy and beam search on a briefly trained model: reported scores are the
// model's scores, beam 1 is greedy, a wider beam never scores below greedy,
// n-best lists are sorted, predictions come back in data order.
#include <random>

#include "deca/model/decode.h"
#include "deca/train/checkpoint.h"
#include "deca/train/pipeline.h"
#include "deca/train/predict.h"
#include "deca/train/trainer.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

class DecodeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("deca-decode-" + std::to_string(std::random_device{}()));
    auto j = nlohmann::json::parse(R"({
      "tokenizer": {"vocab_size": 500},
      "batching": {"max_tokens": 1500},
      "curriculum": [{"tasks": ["squad", "woz.en", "wikisql"]}],
      "model": {"dimension": 32, "embedding_dim": 32, "transformer_hidden": 32, "transformer_heads": 2},
      "training": {"steps": 40, "lr_schedule": "constant", "lr": 0.005, "log_every": 40, "val_every": 0, "save_every": 40,
                   "threads": 1}
    })");
    j["output"] = (dir_ / "run").string();
    j["data"]["data_root"] = (deca::testing::source_dir() / "data" / "sample").string();
    deca::Trainer trainer(deca::config_from_json(j), {});
    ASSERT_EQ(trainer.run(), 0);
    loaded_ = std::make_unique<deca::LoadedModel>(deca::load_checkpoint(dir_ / "run", torch::kCPU));
    const auto task = deca::find_task("squad", loaded_->config.data.data_root);
    examples_ = deca::read_split(*task, loaded_->config, deca::Split::Validation);
    data_ = deca::encode(examples_, *loaded_->tokenizer, {});
  }
  static void TearDownTestSuite() {
    loaded_.reset();
    fs::remove_all(dir_);
  }
  static deca::SplitPredictions run(const deca::model::DecodeOptions& o, long budget = 3000) {
    return deca::predict_split(*loaded_->model, *loaded_->tokenizer, loaded_->vocab, data_, budget, "padded", o,
                               torch::kCPU);
  }
  static inline fs::path dir_;
  static inline std::unique_ptr<deca::LoadedModel> loaded_;
  static inline std::vector<deca::Example> examples_;
  static inline deca::EncodedSplit data_;
};

TEST_F(DecodeTest, ScoresAreTheModelsScores) {
  deca::model::DecodeOptions o;
  o.beam = 3;
  o.nbest = 3;
  o.length_penalty = 0;
  const auto p = run(o);
  const std::vector<uint32_t> rows = {0, 1, 2, 3};
  const auto batch = deca::model::make_batch(data_, rows, loaded_->vocab, torch::kCPU, false);
  std::vector<std::vector<int32_t>> tokens;
  for (auto r : rows) tokens.push_back(p.nbest[r].front().tokens);
  const auto scores = deca::model::sequence_scores(*loaded_->model, batch, loaded_->vocab, tokens);
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_NEAR(scores[i], p.nbest[rows[i]].front().score, 1e-6);
  for (const auto& hyps : p.nbest) {
    ASSERT_FALSE(hyps.empty());
    for (size_t k = 1; k < hyps.size(); ++k) EXPECT_GE(hyps[k - 1].normalized, hyps[k].normalized);
  }
}

TEST_F(DecodeTest, BeamNeverScoresBelowGreedy) {
  deca::model::DecodeOptions greedy, beam;
  beam.beam = 4;
  beam.length_penalty = 0;
  const auto g = run(greedy), b = run(beam);
  ASSERT_EQ(g.answers.size(), examples_.size());
  for (size_t i = 0; i < g.nbest.size(); ++i) EXPECT_GE(b.nbest[i].front().score, g.nbest[i].front().score - 1e-9) << i;
}

TEST_F(DecodeTest, BatchingDoesNotChangeAnswersOrOrder) {
  deca::model::DecodeOptions greedy;
  const auto big = run(greedy, 100000), small = run(greedy, 200);
  EXPECT_EQ(big.answers, small.answers);
  // One example at a time gives the same answers: order restored.
  for (uint32_t r : {0u, 5u, 11u}) {
    const auto batch = deca::model::make_batch(data_, {r}, loaded_->vocab, torch::kCPU, false);
    const auto h = deca::model::decode(*loaded_->model, batch, loaded_->vocab, greedy);
    EXPECT_EQ(loaded_->tokenizer->decode(h[0][0].tokens), big.answers[r]);
  }
}

}  // namespace
