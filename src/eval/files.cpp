#include "deca/eval/files.h"

#include <algorithm>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/core/suggest.h"
#include "deca/tasks/jsonl.h"
#include "deca/tasks/task.h"

namespace fs = std::filesystem;

namespace deca {
namespace {

void write_logical_forms(const fs::path& file, const std::vector<std::string>& answers,
                         const std::vector<Example>& golds) {
  std::string out;
  for (size_t i = 0; i < answers.size(); ++i)
    out += metrics::logical_form_record(answers[i], golds[i].meta.at("header").get<std::vector<std::string>>()).dump() +
           "\n";
  write_file_atomic(file, out);
}

// A name that is no decathlon task is scored as a custom task (nF1). When the
// gold rows name no task to check it against, a name a typo away from a
// decathlon task is almost surely that task, misspelt: an error.
void check_not_misspelt(const std::string& name, const std::vector<Example>& gold, const fs::path& gold_file) {
  const auto& ten = decathlon_tasks();
  if (std::find(ten.begin(), ten.end(), name) != ten.end()) return;
  for (const char* prefix : {"iwslt.", "multinli.", "woz."})
    if (name.rfind(prefix, 0) == 0) return;
  if (name == "squad2.0" || name == "cnn" || name == "dailymail") return;
  if (std::any_of(gold.begin(), gold.end(), [](const Example& ex) { return !ex.task.empty(); })) return;
  for (const auto& known : ten)
    if (edit_distance(name, known) <= 2)
      throw ConfigError("--task " + name + " is not a decathlon task: did you mean " + known + "? (" +
                        gold_file.string() + " names no task, so it would be scored as a custom task, by nF1)");
}

}  // namespace

std::vector<PredictionFiles> prediction_files_in(const fs::path& gold_dir, const fs::path& predictions_dir) {
  if (!fs::is_directory(gold_dir)) throw ConfigError("--gold-dir " + gold_dir.string() + " is not a folder");
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(gold_dir))
    if (e.path().extension() == ".jsonl") names.push_back(e.path().stem().string());
  const auto& order = decathlon_tasks();
  std::sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
    auto ia = std::find(order.begin(), order.end(), a) - order.begin();
    auto ib = std::find(order.begin(), order.end(), b) - order.begin();
    return ia != ib ? ia < ib : a < b;
  });
  std::vector<PredictionFiles> files;
  for (const auto& n : names) files.push_back({n, gold_dir / (n + ".jsonl"), predictions_dir / (n + ".jsonl")});
  if (files.empty()) throw ConfigError("no <task>.jsonl files in " + gold_dir.string());
  return files;
}

void check_unique_tasks(const std::vector<std::string>& names) {
  for (size_t i = 0; i < names.size(); ++i)
    for (size_t k = 0; k < i; ++k)
      if (names[i] == names[k]) throw ConfigError("task " + names[i] + " is listed twice; each task is scored once");
}

std::vector<std::pair<std::string, std::vector<std::string>>> metrics_of(
    const std::vector<std::shared_ptr<const Task>>& tasks) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const auto& t : tasks) out.emplace_back(t->name(), t->metric_names());
  return out;
}

EvalReport score_prediction_files(const std::vector<PredictionFiles>& files, const std::vector<Threshold>& thresholds,
                                  const fs::path& output) {
  std::vector<std::string> names;
  std::vector<std::shared_ptr<const Task>> tasks;
  for (const auto& f : files) {
    names.push_back(f.task);
    tasks.push_back(find_task(f.task));
    require_file(f.gold, "write it with deca-data export");
    require_file(f.predictions, "");
  }
  check_unique_tasks(names);
  check_thresholds(thresholds, metrics_of(tasks));
  EvalReport report;
  report.split = "files";
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& f = files[i];
    const auto gold = read_examples_jsonl(f.gold);
    check_not_misspelt(f.task, gold, f.gold);
    // Gold rows written by deca-data export name their task: a task that
    // differs (a misspelt name would be scored as a custom task) is an error.
    for (const auto& ex : gold)
      if (!ex.task.empty() && ex.task != f.task)
        throw ConfigError("--task " + f.task + " does not match " + f.gold.string() + ", whose examples are of task " +
                          ex.task + " (id " + ex.id + ")");
    const auto aligned = align_predictions(gold, read_predictions_jsonl(f.predictions), f.predictions.string());
    if (!output.empty() && tasks[i]->scoring().logical_form)
      write_logical_forms(output / (f.task + ".logical_forms.jsonl"), aligned, gold);
    report.add(score_task(*tasks[i], aligned, gold));
  }
  return report;
}

void write_predictions(const fs::path& output, const Task& task, const std::vector<Example>& examples,
                       const std::vector<std::string>& answers) {
  std::string lines;
  for (size_t i = 0; i < examples.size(); ++i)
    lines += nlohmann::ordered_json{{"id", examples[i].id}, {"answer", answers[i]}}.dump() + "\n";
  write_file_atomic(output / (task.name() + ".jsonl"), lines);
  if (task.scoring().logical_form)
    write_logical_forms(output / (task.name() + ".logical_forms.jsonl"), answers, examples);
}

}  // namespace deca
