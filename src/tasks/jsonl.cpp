#include "deca/tasks/jsonl.h"

#include <unordered_map>

#include "deca/core/error.h"
#include "deca/core/io.h"

namespace deca {
namespace {

bool blank(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

nlohmann::json parse_line(const std::filesystem::path& path, long n, std::string_view line) {
  try {
    return nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    throw DataError::at(path.string(), n, std::string("invalid JSON: ") + e.what());
  }
}

std::string id_of(const std::filesystem::path& path, long n, const nlohmann::json& j) {
  auto it = j.find("id");
  if (it == j.end() || !(it->is_string() || it->is_number_integer()))
    throw DataError::at(path.string(), n, "expected an \"id\" (string or integer)");
  return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace

std::vector<Example> read_examples_jsonl(const std::filesystem::path& path) {
  std::vector<Example> out;
  std::unordered_map<std::string, long> seen;  // id -> line
  for_each_line(path, [&](std::string_view line, long n) {
    if (blank(line)) return;
    const auto j = parse_line(path, n, line);
    if (!j.is_object()) throw DataError::at(path.string(), n, "expected a JSON object");
    Example ex;
    ex.id = id_of(path, n, j);
    if (auto [it, fresh] = seen.emplace(ex.id, n); !fresh)
      throw DataError::at(
          path.string(), n,
          "id \"" + ex.id + "\" repeats line " + std::to_string(it->second) + " (each gold example is scored once)");
    auto task = j.find("task");
    if (task != j.end() && !task->is_string())
      throw DataError::at(path.string(), n, "expected \"task\" to be a string");
    ex.task = j.value("task", "");
    auto str = [&](const char* key) {
      auto it = j.find(key);
      if (it == j.end() || !it->is_string())
        throw DataError::at(path.string(), n, std::string("expected a string \"") + key + "\"");
      return it->get<std::string>();
    };
    ex.context = str("context");
    ex.question = str("question");
    auto a = j.find("answers");
    if (a == j.end() || !a->is_array() || a->empty())
      throw DataError::at(path.string(), n, "expected \"answers\": a non-empty list of strings");
    for (const auto& x : *a) {
      if (!x.is_string()) throw DataError::at(path.string(), n, "expected \"answers\": a non-empty list of strings");
      ex.answers.push_back(x);
    }
    if (auto m = j.find("meta"); m != j.end()) ex.meta = *m;
    out.push_back(std::move(ex));
  });
  return out;
}

std::vector<Prediction> read_predictions_jsonl(const std::filesystem::path& path) {
  std::vector<Prediction> out;
  for_each_line(path, [&](std::string_view line, long n) {
    if (blank(line)) return;
    const auto j = parse_line(path, n, line);
    if (!j.is_object()) throw DataError::at(path.string(), n, "expected a JSON object {\"id\": ..., \"answer\": ...}");
    auto a = j.find("answer");
    if (a == j.end() || !a->is_string()) throw DataError::at(path.string(), n, "expected a string \"answer\"");
    out.push_back({id_of(path, n, j), a->get<std::string>(), n});
  });
  return out;
}

std::vector<std::string> align_predictions(const std::vector<Example>& golds,
                                           const std::vector<Prediction>& predictions,
                                           const std::string& predictions_file) {
  std::unordered_map<std::string, const Prediction*> by_id;
  for (const auto& p : predictions) {
    auto [it, inserted] = by_id.emplace(p.id, &p);
    if (!inserted)
      throw DataError::at(predictions_file, p.line,
                          "id \"" + p.id + "\" repeats line " + std::to_string(it->second->line));
  }
  std::vector<std::string> out;
  out.reserve(golds.size());
  std::unordered_map<std::string, bool> gold_ids;
  for (const auto& g : golds) {
    auto it = by_id.find(g.id);
    if (it == by_id.end())
      throw DataError(predictions_file + ": no prediction for id \"" + g.id + "\" (task " + g.task + ")");
    out.push_back(it->second->answer);
    gold_ids[g.id] = true;
  }
  for (const auto& p : predictions) {
    if (!gold_ids.count(p.id))
      throw DataError::at(predictions_file, p.line, "id \"" + p.id + "\" is not in the gold file");
  }
  return out;
}

QuestionLine parse_question_line(std::string_view line, long n) {
  QuestionLine item;
  item.id = std::to_string(n - 1);
  const std::string where = "line " + std::to_string(n) + ": ";
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
    item.error = where + "empty line";
    return item;
  }
  const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    item.error = where + "invalid JSON";
    return item;
  }
  if (!j.is_object()) {
    item.error = where + "expected a JSON object";
    return item;
  }
  if (auto id = j.find("id"); id != j.end()) item.id = id->is_string() ? id->get<std::string>() : id->dump();
  auto text = [&](const char* key) -> const std::string* {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
  };
  const std::string* context = text("context");
  const std::string* question = text("question");
  if (!context || !question) {
    item.error = where + "expected string fields \"context\" and \"question\"";
    return item;
  }
  item.example.id = item.id;
  item.example.context = *context;
  item.example.question = *question;
  item.example.answers = {""};
  if (const std::string* task = text("task")) item.example.task = *task;
  return item;
}

}  // namespace deca
