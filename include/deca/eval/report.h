// Scoring a task's predictions, and evaluation reports: a console table, JSON,
// Markdown and JUnit XML, and the --fail-under thresholds that CI jobs gate on.
// No LibTorch.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "deca/metrics/metrics.h"
#include "deca/tasks/task.h"

namespace deca {

struct TaskResult {
  std::string task;
  metrics::MetricValues values;
  double decascore_entry = 0;
  std::string decascore_metric;
  long examples = 0;
  double seconds = 0;  // decoding time
  // A checkpoint's evaluation: whether the model was trained on the task
  // (false: a zero-shot score). Unknown for prediction files.
  std::optional<bool> seen_in_training;
};

// A task's predictions scored against its golds (aligned): its metrics and decaScore entry.
TaskResult score_task(const Task& task, const std::vector<std::string>& predictions, const std::vector<Example>& golds,
                      double seconds = 0);

// A limit on one metric: --fail-under's minimum, or --max-drop's largest fall
// from an earlier report.
struct Threshold {
  std::string task;    // empty for the decaScore
  std::string metric;  // "decascore" for the decaScore
  double value = 0;
  std::string text;    // as given
  std::string option;  // the option that gave it, for messages ("--fail-under")
};

// Parses "task.metric=value" (the last dot splits task and metric) or
// "decascore=value"; the value must be a finite number. Errors name `option`.
Threshold parse_threshold(const std::string& spec, const std::string& option = "--fail-under");

// Checks, before any work, that each threshold names a task that will be
// evaluated and a metric that task reports: `tasks` holds each task's name and
// metric names. Throws ConfigError naming the threshold.
void check_thresholds(const std::vector<Threshold>& thresholds,
                      const std::vector<std::pair<std::string, std::vector<std::string>>>& tasks);

// An earlier report as deca-eval writes it (its JSON): errors name the file.
struct PreviousReport {
  std::string source;
  nlohmann::json json;
  // The value of task.metric (or the decaScore), if the report has it.
  std::optional<double> get(const std::string& task, const std::string& metric) const;
};
PreviousReport read_previous_report(const std::string& path);

// Checks, before any work, that every --max-drop names a metric the earlier
// report has (each also goes through check_thresholds for this evaluation).
void check_drops(const std::vector<Threshold>& max_drops, const PreviousReport& previous);

// One metric of this report beside the earlier report's value.
struct MetricChange {
  std::string task;  // empty for the decaScore
  std::string metric;
  double previous = 0, now = 0;
};

// This report beside an earlier one (deca-eval --compare): every metric both
// have, the decaScore last, and the tasks only one of them has.
struct ReportComparison {
  std::string previous;  // the earlier report's file
  std::vector<MetricChange> changes;
  std::vector<std::string> new_tasks, dropped_tasks;
};

struct EvalReport {
  std::string split;
  std::vector<TaskResult> tasks;
  double decascore = 0;
  std::vector<std::string> failures;  // one message per missed threshold
  long max_examples = 0;              // > 0: each task scored on its first N examples only (deca-eval --max-examples)
  // The checkpoint scored, when one was: {"path", "step", "trained_by": {"version", "commit"}}.
  // Every report also names the deca that scored it (deca/core/version.h).
  nlohmann::ordered_json checkpoint;

  // Appends a task's result and updates the decaScore.
  void add(TaskResult result);

  // "decaScore" over the ten decathlon tasks; "decaScore (8 of 10 tasks)",
  // "... + 1 other)" for any other set, so a partial sum is never read as the
  // decathlon's.
  std::string decascore_label() const;
  long decathlon_tasks_scored() const;

  // Set by compare_with: the earlier report's values beside these.
  std::optional<ReportComparison> comparison;

  void check(const std::vector<Threshold>& thresholds);
  // Compares with an earlier report and adds a failure for each metric of
  // `max_drops` that fell by more than its value.
  void compare_with(const PreviousReport& previous, const std::vector<Threshold>& max_drops);
  nlohmann::ordered_json to_json() const;
  std::string table() const;
  std::string markdown() const;
  std::string junit() const;

 private:
  bool any_zero_shot() const;
  std::string subset_note() const;
  std::string provenance() const;  // "Scored by deca ...; checkpoint ... (step N), trained by deca ..."
  std::optional<double> value_of(const std::string& task, const std::string& metric) const;
  std::string comparison_note(const std::string& end) const;  // the tasks only one report has

  static std::string name_of(const TaskResult& t);  // marked * when zero-shot
};

}  // namespace deca
