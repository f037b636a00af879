// Reading back the JSONL files deca writes: gold examples (`deca-data export`)
// and predictions ({"id": ..., "answer": ...} per line); and the question
// lines that deca-predict answers.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
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
std::vector<std::string> align_predictions(const std::vector<Example>& golds,
                                           const std::vector<Prediction>& predictions,
                                           const std::string& predictions_file);

// One line of a question file, {"context", "question"[, "id", "task"]}: its
// example (id: the given one, else the 0-based line index), or why it cannot
// be answered ("line 3: invalid JSON"). `n` is the 1-based line number.
struct QuestionLine {
  std::string id;
  std::string error;  // non-empty: the line cannot be answered
  Example example;
};
QuestionLine parse_question_line(std::string_view line, long n);

}  // namespace deca
