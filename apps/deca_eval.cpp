// deca-eval: score a checkpoint, or existing prediction files, on the decathlon tasks.
//   deca-eval --checkpoint DIR --data-root DIR [--tasks ...] [--split validation|test] [--output DIR]
//   deca-eval --task NAME --gold GOLD.jsonl --predictions PRED.jsonl [--task ... --gold ... --predictions ...]
//   deca-eval --gold-dir DIR --predictions-dir DIR      (files <task>.jsonl in both)
// Reports: JSON on stdout, a table on stderr; --report-json/--report-md/--junit FILE;
// --fail-under task.metric=value|decascore=value makes the exit code 3 when missed.
#include <fstream>
#include <iostream>

#include "app_common.h"
#include "deca/core/io.h"
#include "deca/core/stop.h"
#include "deca/eval/report.h"
#include "deca/tasks/jsonl.h"
#include "deca/tasks/task.h"
#include "deca/train/pipeline.h"
#ifdef DECA_WITH_TORCH
#include "deca/train/checkpoint.h"
#include "deca/train/predict.h"
#endif

namespace {

struct Group {
  std::string task;
  std::filesystem::path gold, predictions;
};

std::vector<Group> groups_from_dirs(const std::filesystem::path& gold_dir, const std::filesystem::path& pred_dir) {
  if (!std::filesystem::is_directory(gold_dir)) throw deca::ConfigError("--gold-dir " + gold_dir.string() + " is not a folder");
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(gold_dir))
    if (e.path().extension() == ".jsonl") names.push_back(e.path().stem().string());
  const auto& order = deca::decathlon_tasks();  // decathlon order first, then the others alphabetically
  std::sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
    auto ia = std::find(order.begin(), order.end(), a) - order.begin();
    auto ib = std::find(order.begin(), order.end(), b) - order.begin();
    return ia != ib ? ia < ib : a < b;
  });
  std::vector<Group> groups;
  for (const auto& n : names) groups.push_back({n, gold_dir / (n + ".jsonl"), pred_dir / (n + ".jsonl")});
  if (groups.empty()) throw deca::ConfigError("no <task>.jsonl files in " + gold_dir.string());
  return groups;
}

// Task names must be unique: a task listed twice would count twice in the decaScore.
void check_unique(const std::vector<std::string>& names) {
  for (size_t i = 0; i < names.size(); ++i)
    for (size_t k = 0; k < i; ++k)
      if (names[i] == names[k]) throw deca::ConfigError("task " + names[i] + " is listed twice; each task is scored once");
}

std::vector<std::pair<std::string, std::vector<std::string>>> metrics_of(
    const std::vector<std::shared_ptr<const deca::Task>>& tasks) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const auto& t : tasks) out.emplace_back(t->name(), t->metric_names());
  return out;
}

void write_wikisql_logical_forms(const std::filesystem::path& file, const std::vector<std::string>& predictions,
                                 const std::vector<deca::Example>& golds) {
  std::string out;
  for (size_t i = 0; i < predictions.size(); ++i)
    out += deca::metrics::logical_form_record(predictions[i], golds[i].meta.at("header").get<std::vector<std::string>>())
               .dump() + "\n";
  deca::write_file_atomic(file, out);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"deca-eval: score a checkpoint or prediction files on the decathlon tasks"};
  std::vector<std::string> tasks, golds, preds, fail_under;
  std::string gold_dir, pred_dir, checkpoint, data_root, split = "validation", output, device = "cpu";
  std::string report_json, report_md, junit;
  long beam = 1, batch_tokens = 0;
  cli.add_option("--checkpoint", checkpoint, "checkpoint folder, or run folder (its best checkpoint)");
  cli.add_option("--data-root", data_root, "folder with the tasks' original files (default: the checkpoint's)");
  cli.add_option("--tasks", tasks, "tasks to evaluate (default: the checkpoint's tasks)");
  cli.add_option("--split", split, "validation or test")->capture_default_str();
  cli.add_option("--output", output, "folder for the predictions: <task>.jsonl with id and answer");
  cli.add_option("--beam", beam, "beam size (1: greedy)")->capture_default_str()->check(CLI::Range(1, 256));
  cli.add_option("--batch-tokens", batch_tokens, "token budget per decoding batch (default: the checkpoint's)")
      ->check(deca::app::at_least(1));
  cli.add_option("--device", device, "cpu, cuda or cuda:N")->capture_default_str();
  cli.add_option("--task", tasks, "with --gold/--predictions: the task of each pair (repeatable)");
  cli.add_option("--gold", golds, "gold JSONL as written by deca-data export (repeatable)");
  cli.add_option("--predictions", preds, "predictions JSONL, one {\"id\", \"answer\"} per line (repeatable)");
  cli.add_option("--gold-dir", gold_dir, "folder of <task>.jsonl gold files");
  cli.add_option("--predictions-dir", pred_dir, "folder of <task>.jsonl prediction files");
  cli.add_option("--report-json", report_json, "write the report as JSON to this file");
  cli.add_option("--report-md", report_md, "write the report as a Markdown table to this file");
  cli.add_option("--junit", junit, "write a JUnit XML file: one test case per task");
  cli.add_option("--fail-under", fail_under, "task.metric=value or decascore=value: exit code 3 when below (repeatable)");
  deca::app::setup_logging(false);
  return deca::app::run(cli, argc, argv, [&] {
    std::vector<deca::Threshold> thresholds;
    for (const auto& f : fail_under) thresholds.push_back(deca::parse_threshold(f));
    deca::EvalReport report;
    if (!checkpoint.empty()) {
#ifdef DECA_WITH_TORCH
      report.split = split;
      const auto split_id = deca::parse_split(split);
      deca::stop::install();
      auto loaded = deca::load_checkpoint(checkpoint, deca::parse_device(device));
      auto config = loaded.config;
      if (!data_root.empty()) config.data.data_root = data_root;
      if (tasks.empty()) tasks = config.all_tasks();
      check_unique(tasks);
      // Every name, split and threshold is checked before the first decoding.
      std::vector<std::shared_ptr<const deca::Task>> selected;
      for (const auto& name : tasks) {
        auto task = deca::find_task(name, config.data.data_root);
        if (!task->has_split(split_id)) {
          deca::log::warn("{} has no {} split (hidden test set): skipped", name, split);
          continue;
        }
        selected.push_back(std::move(task));
      }
      deca::check_thresholds(thresholds, metrics_of(selected));
      deca::log::info("checkpoint {} (step {}), {} tasks, {} split", loaded.dir.string(), loaded.step, selected.size(), split);
      auto options = deca::EvalOptions::from(config);
      options.decode.beam = beam;
      if (batch_tokens > 0) options.max_tokens = batch_tokens;
      const auto dev = deca::parse_device(device);
      for (const auto& task : selected) {
        const auto split_data = deca::read_eval_split(config, task, split_id, *loaded.tokenizer);
        auto e = deca::evaluate_split(*loaded.model, *loaded.tokenizer, loaded.vocab, split_data, options, dev);
        const auto& examples = split_data.examples;
        const auto& answers = e.predictions.answers;
        if (!output.empty()) {
          std::string lines;
          for (size_t i = 0; i < examples.size(); ++i)
            lines += nlohmann::ordered_json{{"id", examples[i].id}, {"answer", answers[i]}}.dump() + "\n";
          deca::write_file_atomic(std::filesystem::path(output) / (task->name() + ".jsonl"), lines);
          if (task->scoring().logical_form)
            write_wikisql_logical_forms(std::filesystem::path(output) / (task->name() + ".logical_forms.jsonl"), answers,
                                        examples);
        }
        deca::log::info("{}: {} examples decoded in {:.1f} s ({:.1f} examples/s)", task->name(), examples.size(),
                        e.result.seconds, e.result.seconds > 0 ? static_cast<double>(examples.size()) / e.result.seconds : 0.0);
        report.tasks.push_back(std::move(e.result));
      }
#else
      throw deca::ConfigError("--checkpoint needs a build with LibTorch (DECA_WITH_TORCH=ON)");
#endif
    } else {
      report.split = "files";
      std::vector<Group> groups;
      if (!gold_dir.empty() || !pred_dir.empty()) {
        if (gold_dir.empty() || pred_dir.empty()) throw deca::ConfigError("--gold-dir and --predictions-dir go together");
        groups = groups_from_dirs(gold_dir, pred_dir);
      } else {
        if (tasks.empty() || tasks.size() != golds.size() || tasks.size() != preds.size())
          throw deca::ConfigError("give --checkpoint, or one --gold and one --predictions per --task (got " +
                                  std::to_string(tasks.size()) + " tasks, " + std::to_string(golds.size()) +
                                  " gold files, " + std::to_string(preds.size()) + " prediction files)");
        for (size_t i = 0; i < tasks.size(); ++i) groups.push_back({tasks[i], golds[i], preds[i]});
      }
      std::vector<std::string> names;
      std::vector<std::shared_ptr<const deca::Task>> selected;
      for (const auto& g : groups) {
        names.push_back(g.task);
        selected.push_back(deca::find_task(g.task));
        deca::require_file(g.gold, "write it with deca-data export");
        deca::require_file(g.predictions, "");
      }
      check_unique(names);
      deca::check_thresholds(thresholds, metrics_of(selected));
      for (size_t i = 0; i < groups.size(); ++i) {
        const auto& g = groups[i];
        const auto& task = selected[i];
        const auto gold = deca::read_examples_jsonl(g.gold);
        // Gold rows written by deca-data export name their task: a --task that
        // differs (a misspelt name would be scored as a custom task) is an error.
        for (const auto& ex : gold)
          if (!ex.task.empty() && ex.task != g.task)
            throw deca::ConfigError("--task " + g.task + " does not match " + g.gold.string() + ", whose examples are of task " +
                                    ex.task + " (id " + ex.id + ")");
        const auto aligned = deca::align_predictions(gold, deca::read_predictions_jsonl(g.predictions), g.predictions.string());
        if (!output.empty() && task->scoring().logical_form)
          write_wikisql_logical_forms(std::filesystem::path(output) / (g.task + ".logical_forms.jsonl"), aligned, gold);
        report.tasks.push_back(deca::score_task(*task, aligned, gold));
      }
    }
    std::vector<std::pair<std::string, deca::metrics::MetricValues>> per_task;
    for (const auto& t : report.tasks) per_task.emplace_back(t.task, t.values);
    report.decascore = deca::decascore(per_task);
    report.check(thresholds);
    std::cerr << report.table();
    std::cout << report.to_json().dump(2) << std::endl;
    if (!report_json.empty()) deca::write_file_atomic(report_json, report.to_json().dump(2) + "\n");
    if (!report_md.empty()) deca::write_file_atomic(report_md, report.markdown());
    if (!junit.empty()) deca::write_file_atomic(junit, report.junit());
    if (!report.failures.empty()) {
      for (const auto& f : report.failures) deca::log::error("threshold missed: {}", f);
      return 3;
    }
    return 0;
  });
}
