// deca-eval: score predictions with each task's metrics and the decaScore.
//   deca-eval --task NAME --gold GOLD.jsonl --predictions PRED.jsonl [--task ... --gold ... --predictions ...]
//   deca-eval --gold-dir DIR --predictions-dir DIR     (files <task>.jsonl in both)
#include <iostream>
#include <map>

#include "app_common.h"
#include "deca/core/io.h"
#include "deca/tasks/jsonl.h"
#include "deca/tasks/task.h"

namespace {

struct Group {
  std::string task;
  std::filesystem::path gold, predictions;
};

std::vector<Group> groups_from_dirs(const std::filesystem::path& gold_dir, const std::filesystem::path& pred_dir) {
  std::vector<Group> groups;
  if (!std::filesystem::is_directory(gold_dir)) throw deca::ConfigError("--gold-dir " + gold_dir.string() + " is not a folder");
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(gold_dir))
    if (e.path().extension() == ".jsonl") names.push_back(e.path().stem().string());
  // Decathlon order first, then the others alphabetically.
  const auto& order = deca::decathlon_tasks();
  std::sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
    auto ia = std::find(order.begin(), order.end(), a) - order.begin();
    auto ib = std::find(order.begin(), order.end(), b) - order.begin();
    return ia != ib ? ia < ib : a < b;
  });
  for (const auto& n : names) groups.push_back({n, gold_dir / (n + ".jsonl"), pred_dir / (n + ".jsonl")});
  if (groups.empty()) throw deca::ConfigError("no <task>.jsonl files in " + gold_dir.string());
  return groups;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"deca-eval: score predictions on the decathlon tasks"};
  std::vector<std::string> tasks, golds, preds;
  std::string gold_dir, pred_dir;
  cli.add_option("--task", tasks, "task of the matching --gold/--predictions pair (repeatable)");
  cli.add_option("--gold", golds, "gold JSONL as written by deca-data export (repeatable)");
  cli.add_option("--predictions", preds, "predictions JSONL, one {\"id\", \"answer\"} per line (repeatable)");
  cli.add_option("--gold-dir", gold_dir, "folder of <task>.jsonl gold files");
  cli.add_option("--predictions-dir", pred_dir, "folder of <task>.jsonl prediction files");
  deca::app::setup_logging(false);
  return deca::app::run(cli, argc, argv, [&] {
    std::vector<Group> groups;
    if (!gold_dir.empty() || !pred_dir.empty()) {
      if (gold_dir.empty() || pred_dir.empty()) throw deca::ConfigError("--gold-dir and --predictions-dir go together");
      groups = groups_from_dirs(gold_dir, pred_dir);
    } else {
      if (tasks.empty() || tasks.size() != golds.size() || tasks.size() != preds.size())
        throw deca::ConfigError("give one --gold and one --predictions per --task (got " + std::to_string(tasks.size()) +
                                " tasks, " + std::to_string(golds.size()) + " gold files, " +
                                std::to_string(preds.size()) + " prediction files)");
      for (size_t i = 0; i < tasks.size(); ++i) groups.push_back({tasks[i], golds[i], preds[i]});
    }
    nlohmann::ordered_json report;
    std::vector<std::pair<std::string, deca::metrics::MetricValues>> per_task;
    for (const auto& g : groups) {
      deca::require_file(g.gold, "");
      deca::require_file(g.predictions, "");
      const auto task = deca::find_task(g.task);
      const auto gold = deca::read_examples_jsonl(g.gold);
      const auto aligned = deca::align_predictions(gold, deca::read_predictions_jsonl(g.predictions), g.predictions.string());
      auto values = task->score(aligned, gold);
      report["tasks"][g.task] = values.to_json();
      per_task.emplace_back(g.task, std::move(values));
    }
    std::vector<std::pair<std::string, double>> entries;
    const double total = deca::decascore(per_task, &entries);
    report["decascore"]["total"] = total;
    for (const auto& [name, value] : entries) report["decascore"]["entries"][name] = value;
    std::cout << report.dump(2) << std::endl;
    return 0;
  });
}
