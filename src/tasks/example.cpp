#include "deca/tasks/example.h"

#include "deca/core/error.h"

namespace deca {

const char* to_string(Split split) {
  switch (split) {
    case Split::Train:
      return "train";
    case Split::Validation:
      return "validation";
    case Split::Test:
      return "test";
  }
  return "?";
}

Split parse_split(const std::string& name) {
  if (name == "train") return Split::Train;
  if (name == "validation" || name == "valid" || name == "dev" || name == "val") return Split::Validation;
  if (name == "test") return Split::Test;
  throw ConfigError("unknown split \"" + name + "\" (expected train, validation or test)");
}

nlohmann::ordered_json to_json(const Example& ex) {
  nlohmann::ordered_json j;
  j["id"] = ex.id;
  j["task"] = ex.task;
  j["context"] = ex.context;
  j["question"] = ex.question;
  j["answers"] = ex.answers;
  j["meta"] = ex.meta;
  return j;
}

}  // namespace deca
