// The uniform (context, question, answer) triple every task is turned into.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace deca {

struct Example {
  std::string task;  // the task name, e.g. "squad", "iwslt.en.de"
  std::string id;    // stable within the split: the 0-based position in the reader's output
  std::string context;
  std::string question;
  // Every acceptable answer; answers.front() is the training target.
  std::vector<std::string> answers;
  // What the task's metric needs besides the answers (SQuAD question id,
  // WikiSQL sql and header, WOZ dialogue/turn id, ...).
  nlohmann::json meta = nlohmann::json::object();

  const std::string& answer() const { return answers.front(); }
};

enum class Split { Train, Validation, Test };

const char* to_string(Split split);
// "train", "validation" (also "valid", "dev", "val"), "test"; throws ConfigError otherwise.
Split parse_split(const std::string& name);

// The JSON object `deca-data export` writes: id, task, context, question, answers, meta.
nlohmann::ordered_json to_json(const Example& ex);

}  // namespace deca
