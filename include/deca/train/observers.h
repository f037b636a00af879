// The parts of the training loop, each with one job: Trainer::run takes a step
// and hands its outcome to them in turn (as Marian's scheduler hands it to its
// observers). None of them needs LibTorch.
#pragma once

#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "deca/core/config.h"
#include "deca/core/tensorboard.h"
#include "deca/eval/report.h"

namespace deca {

// What one training step did.
struct StepOutcome {
  long step = 0;         // 1-based
  std::string task;      // the task whose batch it trained on
  long phase = 0;        // the curriculum phase, 0-based
  double loss = 0;       // mean token loss (not finite when the step was skipped)
  bool applied = false;  // the optimizer stepped: loss and gradient were finite
  double lr = 0;
  double seconds = 0;       // wall time of the step
  double elapsed = 0;       // training seconds of the run up to and including this step (resumed runs' too)
  double sync_seconds = 0;  // of which in the gradient all-reduce (several processes)
  bool stop = false;        // several processes: a stop signal reached one of them by this step
  long tokens = 0;          // context + question + answer tokens of the batch (all ranks')
  long examples = 0;
};

// metrics.jsonl: one JSON object per line, each flushed when written; with
// `tensorboard` (a folder), the same values as TensorBoard scalars: "train"
// lines as loss/<task>, learning_rate, tokens_per_s, examples_per_s;
// "validation" lines as <task>/<metric> and decascore; each "start" line (a
// start or resume after step N) as a restart at N + 1, so that TensorBoard
// drops what a killed run wrote after its last checkpoint.
class MetricsLog {
 public:
  explicit MetricsLog(std::filesystem::path file, const std::filesystem::path& tensorboard = {});  // appends
  void write(nlohmann::ordered_json line);  // adds "time": Unix seconds

  // Keeps the lines up to `step` (and drops a line cut by a kill), so that a
  // resumed run's file reads as one history. Returns the lines dropped.
  static long truncate_after(const std::filesystem::path& file, long step);

 private:
  void mirror(const nlohmann::ordered_json& line);
  std::filesystem::path file_;
  std::ofstream out_;
  std::unique_ptr<TensorBoardWriter> tensorboard_;
  long last_train_step_ = -1;  // the step whose learning rate and throughput were written
};

// The time left: the mean time of the recent steps (the last kWindow) times
// the steps left, plus the last validation's time for each validation left
// (every val_every steps and at the last; 0: none). Steps' and validations'
// own times, not the wall time since the start, which holds the start-up
// (reading data, a pending validation) and inflated the estimate after a
// start or a resume.
class Eta {
 public:
  Eta(long total_steps, long val_every);
  void after_step(double seconds);
  void after_validation(double seconds);
  double seconds_left(long step) const;
  static std::string hms(double seconds);  // "01:02:03"
  static constexpr size_t kWindow = 200;

 private:
  long validations_after(long step) const;
  long total_, val_every_;
  std::deque<double> recent_;
  double recent_sum_ = 0, validation_ = 0;
};

// Every log_every steps (and at the last): per task, the mean loss of its
// applied steps, with learning rate and throughput, as "train" lines in
// metrics.jsonl and one log line.
class TrainLog {
 public:
  TrainLog(MetricsLog& metrics, long log_every, long total_steps);
  bool due(long step) const;  // whether after_step(step) writes
  void after_step(const StepOutcome& s, const Eta& eta);

 private:
  MetricsLog& metrics_;
  long every_, total_;
  std::map<std::string, std::pair<double, long>> loss_;  // task -> (sum, count)
  double tokens_ = 0, examples_ = 0, seconds_ = 0, sync_seconds_ = 0;
  long steps_ = 0;
};

// The progress line on a terminal (step, task, loss, ETA), rewritten in place.
class ProgressLine {
 public:
  explicit ProgressLine(long total_steps);
  void after_step(const StepOutcome& s, const Eta& eta);
  void clear();  // before a log line

 private:
  long total_;
  bool tty_;
};

// Counts the skipped steps (a non-finite loss or gradient). The weights after
// step N are known to be good once step N+1 was applied; a run of skipped
// steps from step S means the weights of step S-1 gave non-finite losses.
struct BadSteps {
  long total = 0, consecutive = 0;
  long streak_start = 0;  // the first step of the current run of skipped steps
  long last_applied = 0;  // the newest applied step
  // Records a step; true when it makes max_in_a_row skipped steps in a row (the run diverged).
  bool after_step(const StepOutcome& s, long max_in_a_row);
};

// The best validation so far by training.best_metric (decascore or <task>.<metric>).
struct BestCheckpoint {
  std::string metric = "decascore";
  double value = -std::numeric_limits<double>::infinity();
  long step = 0;  // 0: none yet
  // Before any work: the metric names one of the validated tasks' metrics
  // (`validated`: each task's name and metric names). Throws ConfigError listing them.
  void check(const std::vector<std::pair<std::string, std::vector<std::string>>>& validated, bool validating) const;
  // The metric's value in a report; throws ConfigError when no task reports it.
  double value_in(const EvalReport& report) const;
  // Records the report of `step`; true when it is the new best.
  bool update(const EvalReport& report, long step);
};

}  // namespace deca
