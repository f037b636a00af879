// deca-eval: score a checkpoint, or existing prediction files, on the decathlon tasks.
//   deca-eval --checkpoint DIR --data-root DIR [--tasks ...] [--split validation|test] [--output DIR]
//   deca-eval --task NAME --gold GOLD.jsonl --predictions PRED.jsonl [--task ... --gold ... --predictions ...]
//   deca-eval --gold-dir DIR --predictions-dir DIR      (files <task>.jsonl in both)
// Reports: JSON on stdout, a table on stderr; --report-json/--report-md/--junit FILE;
// --fail-under task.metric=value|decascore=value makes the exit code 3 when missed;
// --compare REPORT.json prints the changes from an earlier report, and
// --max-drop task.metric=x|decascore=x makes the exit code 3 when one fell by more than x.
#include <algorithm>
#include <iostream>
#include <optional>

#include "app_common.h"
#include "deca/core/io.h"
#include "deca/core/stop.h"
#include "deca/data/splits.h"
#include "deca/eval/files.h"
#include "deca/eval/report.h"
#include "deca/tasks/task.h"
#ifdef DECA_WITH_TORCH
#include "deca/infer/checkpoint.h"
#include "deca/infer/predict.h"
#include "deca/model/parallel.h"
#endif

int main(int argc, char** argv) {
  CLI::App cli{"deca-eval: score a checkpoint or prediction files on the decathlon tasks"};
  std::vector<std::string> tasks, pair_tasks, golds, preds, fail_under, max_drop;
  std::string gold_dir, pred_dir, data_root, split = "validation", output, compare;
  std::string report_json, report_md, junit;
  deca::app::CheckpointFlags model;
  model.add_to(cli);
  cli.add_option("--data-root", data_root, "folder with the tasks' original files (default: the checkpoint's)");
  cli.add_option("--tasks", tasks,
                 "tasks to evaluate (default: the checkpoint's tasks; others are scored zero-shot, marked so)");
  long max_examples = 0;
  cli.add_option("--max-examples", max_examples, "with --checkpoint: the first N examples of each task (0: all)")
      ->check(CLI::NonNegativeNumber);
  cli.add_option("--split", split, "validation or test")->capture_default_str();
  cli.add_option("--output", output, "folder for the predictions: <task>.jsonl with id and answer");
  cli.add_option("--task", pair_tasks, "with --gold/--predictions: the task of each pair (repeatable)");
  cli.add_option("--gold", golds, "gold JSONL as written by deca-data export (repeatable)");
  cli.add_option("--predictions", preds, "predictions JSONL, one {\"id\", \"answer\"} per line (repeatable)");
  cli.add_option("--gold-dir", gold_dir, "folder of <task>.jsonl gold files");
  cli.add_option("--predictions-dir", pred_dir, "folder of <task>.jsonl prediction files");
  cli.add_option("--report-json", report_json, "write the report as JSON to this file");
  cli.add_option("--report-md", report_md, "write the report as a Markdown table to this file");
  cli.add_option("--junit", junit, "write a JUnit XML file: one test case per task");
  cli.add_option("--fail-under", fail_under,
                 "task.metric=value or decascore=value: exit code 3 when below (repeatable)");
  cli.add_option("--compare", compare,
                 "an earlier report (--report-json, or this program's standard output): print each metric's change");
  cli.add_option("--max-drop", max_drop,
                 "with --compare, task.metric=x or decascore=x: exit code 3 when it fell by more than x (repeatable)");
  deca::app::setup_logging(false);
  return deca::app::run(cli, argc, argv, [&] {
    std::vector<deca::Threshold> thresholds, drops;
    for (const auto& f : fail_under) thresholds.push_back(deca::parse_threshold(f));
    for (const auto& f : max_drop) drops.push_back(deca::parse_threshold(f, "--max-drop"));
    if (!drops.empty() && compare.empty())
      throw deca::ConfigError("--max-drop needs --compare (the report the drop is measured from)");
    std::optional<deca::PreviousReport> previous;
    if (!compare.empty()) {
      previous = deca::read_previous_report(compare);
      deca::check_drops(drops, *previous);
    }
    deca::EvalReport report;
    if (!model.checkpoint.empty()) {
      if (!pair_tasks.empty())
        throw deca::ConfigError(
            "--task names the task of a --gold/--predictions pair; to choose a checkpoint's tasks, give --tasks");
#ifdef DECA_WITH_TORCH
      const auto split_id = deca::parse_split(split);
      deca::stop::install();
      deca::model::use_threads(static_cast<int>(model.threads));
      auto loaded = deca::load_checkpoint(model.checkpoint, deca::parse_device(model.device));
      auto config = loaded.config;
      if (!data_root.empty()) config.data.data_root = data_root;
      deca::announce_data_root(config.data.data_root);
      if (tasks.empty()) tasks = config.all_tasks();
      deca::check_unique_tasks(tasks);
      // Every name, split and threshold is checked before the first decoding.
      std::vector<std::shared_ptr<const deca::Task>> selected;
      std::string skipped;
      for (const auto& name : tasks) {
        auto task = deca::find_task(name, config.data.data_root);
        if (!task->has_split(split_id)) {
          deca::log::warn("{} has no {} split (hidden test set): skipped", name, split);
          skipped += (skipped.empty() ? "" : ", ") + name;
          continue;
        }
        selected.push_back(std::move(task));
      }
      if (selected.empty())
        throw deca::ConfigError("nothing to score: no task of " + skipped + " has a " + split +
                                " split (hidden test set)");
      deca::check_thresholds(thresholds, deca::metrics_of(selected));
      deca::check_thresholds(drops, deca::metrics_of(selected));
      deca::log::info("checkpoint {} (step {}), {} tasks, {} split", loaded.dir.string(), loaded.step, selected.size(),
                      split);
      auto options = deca::EvalOptions::from(config);
      model.apply(options);
      std::vector<deca::TaskSplit> splits;
      for (const auto& task : selected)
        splits.push_back(
            deca::read_eval_split(config, task, split_id, *loaded.predictor.tokenizer, {max_examples, {}}));
      report = deca::evaluate(
          loaded.predictor, splits, options, [&](const deca::TaskSplit& s, const deca::SplitEvaluation& e) {
            const std::string name = s.task->name();
            if (!output.empty()) deca::write_predictions(output, *s.task, s.examples, e.predictions.answers);
            deca::log::info("{}: {} examples decoded in {:.1f} s ({:.1f} examples/s)", name, s.examples.size(),
                            e.result.seconds,
                            e.result.seconds > 0 ? static_cast<double>(s.examples.size()) / e.result.seconds : 0.0);
          });
      report.split = split;
      report.max_examples = max_examples;
      report.checkpoint = {{"path", loaded.dir.string()}, {"step", loaded.step}, {"trained_by", loaded.trained_by}};
      for (auto& t : report.tasks) {
        t.seen_in_training = std::count(loaded.trained_tasks.begin(), loaded.trained_tasks.end(), t.task) > 0;
        if (!*t.seen_in_training) deca::log::info("{}: not trained on (zero-shot)", t.task);
      }
#else
      throw deca::ConfigError("--checkpoint needs a build with LibTorch (DECA_WITH_TORCH=ON)");
#endif
    } else {
      if (!tasks.empty())
        throw deca::ConfigError(
            "--tasks chooses the tasks of a --checkpoint; with --gold/--predictions give one --task per pair");
      std::vector<deca::PredictionFiles> files;
      if (!gold_dir.empty() || !pred_dir.empty()) {
        if (gold_dir.empty() || pred_dir.empty())
          throw deca::ConfigError("--gold-dir and --predictions-dir go together");
        files = deca::prediction_files_in(gold_dir, pred_dir);
      } else {
        if (pair_tasks.empty() || pair_tasks.size() != golds.size() || pair_tasks.size() != preds.size())
          throw deca::ConfigError("give --checkpoint, or one --gold and one --predictions per --task (got " +
                                  std::to_string(pair_tasks.size()) + " tasks, " + std::to_string(golds.size()) +
                                  " gold files, " + std::to_string(preds.size()) + " prediction files)");
        for (size_t i = 0; i < pair_tasks.size(); ++i) files.push_back({pair_tasks[i], golds[i], preds[i]});
      }
      report = deca::score_prediction_files(files, thresholds, output);
    }
    report.check(thresholds);
    if (previous) report.compare_with(*previous, drops);
    std::cerr << report.table();
    std::cout << report.to_json().dump(2) << std::endl;
    if (!report_json.empty()) deca::write_user_file(report_json, report.to_json().dump(2) + "\n");
    if (!report_md.empty()) deca::write_user_file(report_md, report.markdown());
    if (!junit.empty()) deca::write_user_file(junit, report.junit());
    if (!report.failures.empty()) {
      for (const auto& f : report.failures) deca::log::error("threshold missed: {}", f);
      return 3;
    }
    return 0;
  });
}
