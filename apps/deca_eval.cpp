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
      deca::CheckpointEvaluation request;
      request.split = deca::parse_split(split);
      deca::stop::install();
      deca::model::use_threads(static_cast<int>(model.threads));
      const auto loaded = deca::load_checkpoint(model.checkpoint, deca::parse_device(model.device));
      request.data_root = data_root;
      request.tasks = tasks;
      request.max_examples = max_examples;
      request.output = output;
      request.adjust = [&](deca::EvalOptions& options) { model.apply(options); };
      request.before_decoding = [&](const auto& metrics) {
        deca::check_thresholds(thresholds, metrics);
        deca::check_thresholds(drops, metrics);
      };
      report = deca::evaluate_checkpoint(loaded, request);
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
