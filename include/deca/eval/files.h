// Evaluation through files: prediction files scored against gold files
// (`deca-eval --gold/--predictions`, `--gold-dir/--predictions-dir`), and a
// model's predictions written as such files (`deca-eval --checkpoint --output`).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "deca/eval/report.h"
#include "deca/tasks/task.h"

namespace deca {

struct PredictionFiles {
  std::string task;
  std::filesystem::path gold, predictions;
};

// The pairs <task>.jsonl of two folders, in decathlon order, then the other tasks alphabetically.
std::vector<PredictionFiles> prediction_files_in(const std::filesystem::path& gold_dir,
                                                 const std::filesystem::path& predictions_dir);

// Throws ConfigError when a task is listed twice (it would count twice in the decaScore).
void check_unique_tasks(const std::vector<std::string>& names);

// Each task's name and metric names, to check thresholds against.
std::vector<std::pair<std::string, std::vector<std::string>>> metrics_of(
    const std::vector<std::shared_ptr<const Task>>& tasks);

// Scores each pair (every file, name and threshold checked before the first
// score); with `output`, writes WikiSQL's logical forms there.
EvalReport score_prediction_files(const std::vector<PredictionFiles>& files, const std::vector<Threshold>& thresholds,
                                  const std::filesystem::path& output = {});

// Writes <output>/<task>.jsonl ({"id", "answer"} per example, in order) and,
// for WikiSQL, <task>.logical_forms.jsonl.
void write_predictions(const std::filesystem::path& output, const Task& task, const std::vector<Example>& examples,
                       const std::vector<std::string>& answers);

}  // namespace deca
