// Training: an interrupted and resumed run reproduces the straight run's
// losses bit for bit; checkpoints, links and metrics are where they belong.
#include <fstream>
#include <random>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/model/safetensors.h"
#include "deca/train/checkpoint.h"
#include "deca/train/trainer.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

using deca::testing::tiny_config;

// Step -> loss from the training lines of metrics.jsonl.
std::map<long, double> losses(const fs::path& run) {
  std::map<long, double> out;
  deca::for_each_line(run / "metrics.jsonl", [&](std::string_view line, long) {
    const auto j = nlohmann::json::parse(line);
    if (j["type"] == "train") out[j["step"].get<long>()] = j["loss"].get<double>();
  });
  return out;
}

class TrainingTest : public ::testing::Test {
 protected:
  deca::testing::TempDir tmp_{"deca-train"};
  const fs::path& dir_ = tmp_.path();
};

// Trains 12 steps straight, and 7 + a resume to 12, on `device`; the two runs'
// losses, step by step.
std::pair<std::map<long, double>, std::map<long, double>> straight_and_resumed(
    const fs::path& dir, const std::string& device, const std::string& optimizer_state = "fp32") {
  auto config = [&](const fs::path& out) {
    auto c = tiny_config(out);
    c.training.device = device;
    c.training.optimizer_state = optimizer_state;
    return c;
  };
  {
    deca::Trainer straight(config(dir / "straight"), {});
    EXPECT_EQ(straight.run(), 0);
  }
  {
    auto first = config(dir / "resumed");
    first.training.steps = 7;  // stop after step 7: the last checkpoint is at step 7
    deca::Trainer part1(first, {});
    EXPECT_EQ(part1.run(), 0);
  }
  {
    deca::TrainerOptions resume;
    resume.resume = true;
    deca::Trainer part2(config(dir / "resumed"), resume);
    EXPECT_EQ(part2.run(), 0);
  }
  return {losses(dir / "straight"), losses(dir / "resumed")};
}

TEST_F(TrainingTest, ResumeContinuesExactly) {
  const auto [a, b] = straight_and_resumed(dir_, "cpu");
  ASSERT_EQ(a.size(), 12u);
  ASSERT_EQ(b.size(), 12u);
  for (const auto& [step, loss] : a) EXPECT_EQ(loss, b.at(step)) << "step " << step;  // bitwise
}

// With Adam's moments in bfloat16: the checkpoint holds them in bfloat16, and
// the stochastic rounding's bits follow from the step count, so resuming
// continues exactly too.
TEST_F(TrainingTest, ResumeContinuesExactlyWithBf16OptimizerState) {
  const auto [a, b] = straight_and_resumed(dir_, "cpu", "bf16");
  ASSERT_EQ(a.size(), 12u);
  ASSERT_EQ(b.size(), 12u);
  for (const auto& [step, loss] : a) EXPECT_EQ(loss, b.at(step)) << "step " << step;  // bitwise
  const auto state = deca::model::read_safetensors(dir_ / "resumed" / "checkpoints" / "last" / "optimizer.safetensors");
  ASSERT_FALSE(state.empty());
  for (const auto& [name, t] : state) {
    if (name.find("exp_avg") != std::string::npos) {
      EXPECT_EQ(t.scalar_type(), torch::kBFloat16) << name;
    }
  }
}

// With training.save_val_predictions each validation's answers are written as
// deca-eval's prediction files, one per task and step, and every metrics line
// carries the training seconds so far (validation excluded), never decreasing.
TEST_F(TrainingTest, ValidationAnswersAndElapsedSecondsAreWritten) {
  auto c = tiny_config(dir_ / "run");
  c.training.steps = 4;
  c.training.val_every = 2;
  c.training.val_tasks = {"sst", "schema"};
  c.training.save_val_predictions = true;
  deca::Trainer trainer(c, {});
  ASSERT_EQ(trainer.run(), 0);
  std::map<std::string, long> sst_ids;  // the validation split's ids, from the files written at step 2
  for (long step : {2L, 4L}) {
    for (const std::string task : {"sst", "schema"}) {
      const auto file =
          dir_ / "run" / "validation" / (step == 2 ? "step-00000002" : "step-00000004") / (task + ".jsonl");
      ASSERT_TRUE(fs::exists(file)) << file;
      long lines = 0;
      deca::for_each_line(file, [&](std::string_view line, long) {
        const auto j = nlohmann::json::parse(line);
        ASSERT_TRUE(j.contains("id") && j.contains("answer")) << line;
        if (task == "sst") ++sst_ids[j["id"].get<std::string>()];
        ++lines;
      });
      EXPECT_GT(lines, 0) << file;
    }
  }
  for (const auto& [id, n] : sst_ids) EXPECT_EQ(n, 2) << "id " << id << " not once per validation";
  double last = 0;
  long train_lines = 0, validation_lines = 0;
  deca::for_each_line(dir_ / "run" / "metrics.jsonl", [&](std::string_view line, long) {
    const auto j = nlohmann::json::parse(line);
    if (j["type"] == "start" || j["task"] == "decascore") return;
    ASSERT_TRUE(j.contains("elapsed_seconds")) << line;
    const double e = j["elapsed_seconds"].get<double>();
    EXPECT_GE(e, last) << line;
    last = e;
    ++(j["type"] == "train" ? train_lines : validation_lines);
  });
  EXPECT_EQ(train_lines, 4);
  EXPECT_EQ(validation_lines, 4);  // two tasks at steps 2 and 4
  EXPECT_GT(last, 0.0);
}

// The same on a GPU: the checkpoint holds the GPU generator's state (dropout
// draws there), and LibTorch's deterministic algorithms make the kernels
// repeatable (cuBLAS needs its workspace fixed before CUDA starts).
TEST_F(TrainingTest, ResumeContinuesExactlyOnCuda) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  ::setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", 0);
  at::globalContext().setDeterministicAlgorithms(true, false);
  const auto [a, b] = straight_and_resumed(dir_, "cuda");
  at::globalContext().setDeterministicAlgorithms(false, false);
  ASSERT_EQ(a.size(), 12u);
  ASSERT_EQ(b.size(), 12u);
  for (const auto& [step, loss] : a) EXPECT_EQ(loss, b.at(step)) << "step " << step;  // bitwise
}

// training.precision bf16 (the forward pass autocast to bfloat16, here on the
// CPU) tracks fp32 on the same batches: without dropout and at a learning rate
// that does not make the path chaotic, every step's loss within 1% of fp32's,
// and the 12 steps' mean within 0.3%.
TEST_F(TrainingTest, Bf16LossesTrackFp32) {
  std::map<std::string, std::map<long, double>> by_precision;
  for (const std::string precision : {"fp32", "bf16"}) {
    auto c = tiny_config(dir_ / precision);
    c.model.dropout = c.model.coattention_dropout = c.model.feedforward_dropout = 0;
    c.training.precision = precision;
    c.training.lr_schedule = "constant";
    c.training.lr = 0.001;
    deca::Trainer trainer(c, {});
    ASSERT_EQ(trainer.run(), 0);
    by_precision[precision] = losses(dir_ / precision);
  }
  const auto& fp32 = by_precision["fp32"];
  const auto& bf16 = by_precision["bf16"];
  ASSERT_EQ(bf16.size(), 12u);
  double sum32 = 0, sum16 = 0;
  for (const auto& [step, loss] : fp32) {
    EXPECT_NEAR(bf16.at(step), loss, 0.01 * loss) << "step " << step;  // measured: 1.4e-3 at most
    sum32 += loss;
    sum16 += bf16.at(step);
  }
  EXPECT_NEAR(sum16, sum32, 0.003 * sum32);
  EXPECT_NE(fp32, bf16) << "bf16 changed nothing: autocast was not on";
}

// training.optimizer_state bf16 tracks fp32 moments on the same batches
// (without dropout, at a rate that keeps the path from being chaotic): every
// step's loss within 0.5 % of fp32's.
TEST_F(TrainingTest, Bf16OptimizerStateTracksFp32) {
  std::map<std::string, std::map<long, double>> by_state;
  for (const std::string state : {"fp32", "bf16"}) {
    auto c = tiny_config(dir_ / state);
    c.model.dropout = c.model.coattention_dropout = c.model.feedforward_dropout = 0;
    c.training.lr_schedule = "constant";
    c.training.lr = 0.001;
    c.training.optimizer_state = state;
    deca::Trainer trainer(c, {});
    ASSERT_EQ(trainer.run(), 0);
    by_state[state] = losses(dir_ / state);
  }
  const auto& fp32 = by_state["fp32"];
  const auto& bf16 = by_state["bf16"];
  ASSERT_EQ(bf16.size(), 12u);
  for (const auto& [step, loss] : fp32) EXPECT_NEAR(bf16.at(step), loss, 0.005 * loss) << "step " << step;
  EXPECT_NE(fp32, bf16) << "bf16 moments changed nothing";
}

// The "end" line of metrics.jsonl and the newest checkpoint's step.
std::pair<std::string, long> end_of(const fs::path& run) {
  std::string reason;
  deca::for_each_line(run / "metrics.jsonl", [&](std::string_view line, long) {
    const auto j = nlohmann::json::parse(line);
    if (j["type"] == "end") reason = j["reason"];
  });
  return {reason, deca::load_checkpoint(run / "checkpoints" / "last", torch::kCPU).step};
}

// training.patience: with weights that cannot change (lr 1e-12) the metric of
// the first validation (step 2) stays the best, and two validations later
// (steps 4 and 6) the run ends, saved, with exit code 0.
TEST_F(TrainingTest, PatienceEndsTheRunWhenTheBestMetricStopsImproving) {
  const auto c = tiny_config(dir_ / "run", {{"curriculum", {{{"tasks", {"sst", "schema"}}}}},
                                            {"training",
                                             {{"steps", 40},
                                              {"lr_schedule", "constant"},
                                              {"lr", 1e-12},
                                              {"val_every", 2},
                                              {"val_max_examples", 8},
                                              {"patience", 2}}}});
  deca::Trainer t(c, {});
  ASSERT_EQ(t.run(), 0);
  const auto [reason, step] = end_of(dir_ / "run");
  EXPECT_EQ(step, 6);
  EXPECT_EQ(reason.rfind("early stopping: decascore has not improved for 2 validations", 0), 0u) << reason;
  EXPECT_EQ(losses(dir_ / "run").rbegin()->first, 6);
}

// training.max_time: the run ends before a step would pass the limit, saved,
// with exit code 0; --resume continues it from there.
TEST_F(TrainingTest, TimeLimitSavesAndTheRunResumes) {
  auto c = tiny_config(dir_ / "run", {{"training", {{"steps", 100000}, {"save_every", 100000}, {"max_time", 1.0}}}});
  {
    deca::Trainer t(c, {});
    ASSERT_EQ(t.run(), 0);
  }
  const auto [reason, step] = end_of(dir_ / "run");
  EXPECT_EQ(reason.rfind("time limit: ", 0), 0u) << reason;
  ASSERT_GE(step, 1);
  ASSERT_LT(step, 100000);
  c.training.max_time = 0;
  c.training.steps = step + 3;
  deca::TrainerOptions resume;
  resume.resume = true;
  resume.set_keys = {"training.max_time", "training.steps"};
  deca::Trainer t(c, resume);
  ASSERT_EQ(t.run(), 0);
  EXPECT_EQ(end_of(dir_ / "run").second, step + 3);
}

// training.accumulate: a step's batch in 3 micro-batches, their gradients
// summed, makes the update of the whole batch (dropout off): the same losses,
// step by step, to float rounding, as the 2-rank run makes them.
TEST_F(TrainingTest, AccumulatedMicroBatchesMakeTheWholeBatchsUpdate) {
  const nlohmann::json no_dropout = {{"dropout", 0}, {"coattention_dropout", 0}, {"feedforward_dropout", 0}};
  for (const long accumulate : {1L, 3L}) {
    deca::Trainer t(tiny_config(dir_ / std::to_string(accumulate),
                                {{"model", no_dropout}, {"training", {{"accumulate", accumulate}}}}),
                    {});
    ASSERT_EQ(t.run(), 0);
  }
  const auto whole = losses(dir_ / "1"), parts = losses(dir_ / "3");
  ASSERT_EQ(whole.size(), 12u);
  ASSERT_EQ(parts.size(), 12u);
  for (const auto& [step, loss] : whole) EXPECT_NEAR(parts.at(step), loss, 1e-5 * loss) << "step " << step;
}

TEST_F(TrainingTest, CheckpointLayoutAndLinks) {
  deca::Trainer t(tiny_config(dir_ / "run"), {});
  ASSERT_EQ(t.run(), 0);
  const fs::path ck = dir_ / "run" / "checkpoints";
  EXPECT_TRUE(fs::is_symlink(ck / "last"));
  EXPECT_EQ(fs::read_symlink(ck / "last").string(), "step-00000012");
  for (const char* f : {"config.json", "tokenizer.model", "tokenizer.json", "model.safetensors",
                        "optimizer.safetensors", "rng.pt", "trainer_state.json"})
    EXPECT_TRUE(fs::exists(ck / "last" / f)) << f;
  // keep_last 2: steps 10 and 12 remain, step 5 was pruned.
  EXPECT_FALSE(fs::exists(ck / "step-00000005"));
  EXPECT_TRUE(fs::exists(ck / "step-00000010"));
  // A run folder resolves to its best, else last, checkpoint.
  EXPECT_EQ(deca::resolve_checkpoint(dir_ / "run"), fs::canonical(ck / "last"));
  const auto loaded = deca::load_checkpoint(dir_ / "run", torch::kCPU);
  EXPECT_EQ(loaded.step, 12);
  EXPECT_EQ(loaded.config.model.dimension, 32);
  EXPECT_THROW(deca::resolve_checkpoint(dir_), deca::ConfigError);
}

TEST(LearningRate, TransformerScheduleMatchesTheReference) {
  deca::TrainOptions t;  // warmup 800
  EXPECT_NEAR(deca::learning_rate(t, 200, 800), 1 / std::sqrt(200.0) / std::sqrt(800.0), 1e-15);
  EXPECT_NEAR(deca::learning_rate(t, 200, 1), 1 / std::sqrt(200.0) / std::pow(800.0, 1.5), 1e-15);
  EXPECT_NEAR(deca::learning_rate(t, 200, 500000), 1 / std::sqrt(200.0) / std::sqrt(500000.0), 1e-15);
  t.lr_schedule = "linear";
  t.lr = 1e-3;
  t.warmup = 10;
  t.steps = 110;
  EXPECT_NEAR(deca::learning_rate(t, 200, 5), 5e-4, 1e-15);
  EXPECT_NEAR(deca::learning_rate(t, 200, 60), 5e-4, 1e-15);
  EXPECT_NEAR(deca::learning_rate(t, 200, 110), 0.0, 1e-15);
}

}  // namespace
