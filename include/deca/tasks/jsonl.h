// Reading back the JSONL files deca writes: gold examples (`deca-data export`)
// and predictions ({"id": ..., "answer": ...} per line).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "deca/tasks/example.h"

namespace deca {

// Examples as `deca-data export` writes them. Errors name file and line.
std::vector<Example> read_examples_jsonl(const std::filesystem::path& path);

struct Prediction {
  std::string id;
  std::string answer;
  long line = 0;
};
// One {"id": string|int, "answer": string} object per line; blank lines are skipped.
std::vector<Prediction> read_predictions_jsonl(const std::filesystem::path& path);

// Orders `predictions` like `golds` (joined by id). A gold id without a
// prediction, a prediction id without a gold and a repeated id are errors that
// name the id and file.
std::vector<std::string> align_predictions(const std::vector<Example>& golds, const std::vector<Prediction>& predictions,
                                           const std::string& predictions_file);

}  // namespace deca
