// The parts of the training loop, one by one, on synthetic step outcomes.
#include <random>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/train/observers.h"
#include "tensorboard_events.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

class Observers : public ::testing::Test {
 protected:
  std::vector<nlohmann::json> lines(const fs::path& file) const {
    std::vector<nlohmann::json> out;
    deca::for_each_line(file, [&](std::string_view line, long) { out.push_back(nlohmann::json::parse(line)); });
    return out;
  }
  deca::testing::TempDir tmp_{"deca-observers"};
  const fs::path& dir_ = tmp_.path();
};

deca::StepOutcome outcome(long step, const std::string& task, double loss, bool applied = true) {
  deca::StepOutcome s;
  s.step = step;
  s.task = task;
  s.phase = 0;
  s.loss = loss;
  s.applied = applied;
  s.lr = 0.5;
  s.seconds = 0.5;
  s.tokens = 100;
  s.examples = 4;
  return s;
}

// Per task, the mean loss of the applied steps of each interval; the last step
// writes even off the interval; a skipped step counts in throughput only.
TEST_F(Observers, TrainLogWritesEachTasksMeanLossPerInterval) {
  const fs::path file = dir_ / "metrics.jsonl";
  {
    deca::MetricsLog metrics(file);
    deca::TrainLog log(metrics, 3, 5);
    const deca::Eta eta(5, 0);
    log.after_step(outcome(1, "sst", 1.0), eta);
    log.after_step(outcome(2, "squad", 4.0), eta);
    log.after_step(outcome(3, "sst", std::nan(""), false), eta);
    EXPECT_TRUE(log.due(3));
    EXPECT_FALSE(log.due(4));
    log.after_step(outcome(4, "sst", 2.0), eta);
    log.after_step(outcome(5, "sst", 3.0), eta);
  }
  const auto l = lines(file);
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0]["step"], 3);
  EXPECT_EQ(l[0]["task"], "squad");
  EXPECT_DOUBLE_EQ(l[0]["loss"].get<double>(), 4.0);
  EXPECT_EQ(l[1]["task"], "sst");
  EXPECT_DOUBLE_EQ(l[1]["loss"].get<double>(), 1.0);            // step 3 was skipped
  EXPECT_DOUBLE_EQ(l[1]["tokens_per_s"].get<double>(), 200.0);  // 300 tokens in 1.5 s
  EXPECT_EQ(l[2]["step"], 5);
  EXPECT_EQ(l[2]["type"], "train");
  EXPECT_DOUBLE_EQ(l[2]["loss"].get<double>(), 2.5);
  EXPECT_DOUBLE_EQ(l[2]["examples_per_s"].get<double>(), 8.0);
}

// With a TensorBoard folder, every metrics.jsonl value is also a scalar at its
// step: per-task losses, one learning rate and throughput a step, each
// validation metric and the decaScore; a start line is a restart after its step.
TEST_F(Observers, MetricsLogMirrorsItsValuesToTensorBoard) {
  {
    deca::MetricsLog metrics(dir_ / "metrics.jsonl", dir_ / "tensorboard");
    metrics.write({{"type", "start"}, {"step", 0}});
    deca::TrainLog log(metrics, 2, 2);
    const deca::Eta eta(2, 0);
    log.after_step(outcome(1, "sst", 1.0), eta);
    log.after_step(outcome(2, "squad", 3.0), eta);
    metrics.write({{"type", "validation"},
                   {"step", 2},
                   {"task", "squad"},
                   {"decascore_metric", "nf1"},
                   {"elapsed_seconds", 9.0},
                   {"em", 40.0},
                   {"nf1", 55.5}});
    metrics.write({{"type", "validation"}, {"step", 2}, {"task", "decascore"}, {"decascore", 55.5}});
  }
  const auto files = deca::testing::tb_event_files(dir_ / "tensorboard");
  ASSERT_EQ(files.size(), 1u);
  std::vector<std::string> seen;
  for (const auto& e : deca::testing::read_tb_events(files[0])) {
    if (e.session_status == 1) seen.push_back("restart@" + std::to_string(e.step));
    if (e.tag.empty()) continue;
    char value[32];
    std::snprintf(value, sizeof value, "%g", e.value);
    seen.push_back(e.tag + "@" + std::to_string(e.step) + "=" + value);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"restart@1", "loss/squad@2=3", "learning_rate@2=0.5", "tokens_per_s@2=200",
                                            "examples_per_s@2=8", "loss/sst@2=1", "squad/em@2=40", "squad/nf1@2=55.5",
                                            "decascore@2=55.5"}));
}

// The time left: the recent steps' mean (a slow first step leaves the window)
// times the steps left, plus the last validation's time per validation left.
TEST(Eta, RecentStepsTimesStepsLeftPlusValidationsLeft) {
  deca::Eta eta(100, 10);
  EXPECT_EQ(eta.seconds_left(0), 0);  // nothing measured yet
  for (int i = 0; i < 5; ++i) eta.after_step(1.0);
  EXPECT_DOUBLE_EQ(eta.seconds_left(5), 95.0);  // no validation measured yet
  eta.after_validation(20.0);
  EXPECT_DOUBLE_EQ(eta.seconds_left(5), 95.0 + 10 * 20.0);  // at 10, 20, ..., 100
  EXPECT_DOUBLE_EQ(eta.seconds_left(95), 5.0 + 20.0);
  EXPECT_DOUBLE_EQ(eta.seconds_left(100), 0.0);
  deca::Eta odd(105, 10);
  odd.after_step(2.0);
  odd.after_validation(3.0);
  EXPECT_DOUBLE_EQ(odd.seconds_left(100), 5 * 2.0 + 3.0);  // the last step validates too
  deca::Eta resumed(10000, 0);
  resumed.after_step(80.0);  // a first step that carried start-up work
  for (size_t i = 0; i < deca::Eta::kWindow; ++i) resumed.after_step(0.5);
  EXPECT_DOUBLE_EQ(resumed.seconds_left(9000), 500.0);
}

// A resumed run keeps the history up to its step; later lines and a line cut
// by a kill go.
TEST_F(Observers, MetricsLogTruncatesAfterTheResumedStep) {
  const fs::path file = dir_ / "metrics.jsonl";
  deca::write_file_atomic(file, "{\"step\":1}\n{\"step\":2}\n{\"step\":3}\n{\"step\":4}\n{\"step\":5,\"lo");
  EXPECT_EQ(deca::MetricsLog::truncate_after(file, 2), 3);
  EXPECT_EQ(deca::read_file(file), "{\"step\":1}\n{\"step\":2}\n");
  EXPECT_EQ(deca::MetricsLog::truncate_after(file, 2), 0);
  EXPECT_EQ(deca::MetricsLog::truncate_after(dir_ / "absent.jsonl", 2), 0);
}

TEST(BadSteps, StopsAfterTheConfiguredRunOfSkippedSteps) {
  deca::BadSteps bad;
  EXPECT_FALSE(bad.after_step(outcome(1, "sst", std::nan(""), false), 2));
  EXPECT_FALSE(bad.after_step(outcome(2, "sst", 1.0), 2));  // an applied step ends the run
  EXPECT_EQ(bad.consecutive, 0);
  EXPECT_EQ(bad.last_applied, 2);
  EXPECT_FALSE(bad.after_step(outcome(3, "sst", std::nan(""), false), 2));
  EXPECT_TRUE(bad.after_step(outcome(4, "sst", std::nan(""), false), 2));
  EXPECT_EQ(bad.streak_start, 3);  // the weights of step 2 gave the first non-finite loss
  EXPECT_EQ(bad.consecutive, 2);
  EXPECT_EQ(bad.total, 3);
}

deca::EvalReport report(double decascore, double sst_em) {
  deca::EvalReport r;
  deca::TaskResult t;
  t.task = "sst";
  t.values.set("em", sst_em);
  r.tasks.push_back(t);
  r.decascore = decascore;
  return r;
}

TEST(BestCheckpoint, KeepsTheHighestValueOfItsMetric) {
  deca::BestCheckpoint by_score;
  EXPECT_TRUE(by_score.update(report(50, 10), 100));
  EXPECT_FALSE(by_score.update(report(50, 90), 200));  // equal is not better
  EXPECT_TRUE(by_score.update(report(60, 5), 300));
  EXPECT_EQ(by_score.step, 300);
  deca::BestCheckpoint by_task{"sst.em"};
  EXPECT_TRUE(by_task.update(report(50, 10), 100));
  EXPECT_TRUE(by_task.update(report(40, 20), 200));
  EXPECT_FALSE(by_task.update(report(90, 15), 300));
  EXPECT_EQ(by_task.step, 200);
  EXPECT_DOUBLE_EQ(by_task.value, 20);
  deca::BestCheckpoint unknown{"squad.nf1"};
  EXPECT_THROW(unknown.update(report(50, 10), 100), deca::ConfigError);
}

}  // namespace
