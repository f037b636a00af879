// deca-data: look at what the model will be fed.
//   deca-data export --data-root DIR --task NAME --split S   JSONL triples on stdout
//   deca-data stats  --data-root DIR [--tasks ...]            counts and lengths per task and split
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "app_common.h"
#include "deca/core/config.h"
#include "deca/core/io.h"
#include "deca/tasks/task.h"
#include "deca/text/unicode.h"

namespace {

struct Distribution {
  double mean = 0;
  size_t p50 = 0, p95 = 0, max = 0;
};

Distribution distribution(std::vector<size_t> v) {
  Distribution d;
  if (v.empty()) return d;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (size_t x : v) sum += static_cast<double>(x);
  d.mean = sum / static_cast<double>(v.size());
  d.p50 = v[v.size() / 2];
  d.p95 = v[std::min(v.size() - 1, v.size() * 95 / 100)];
  d.max = v.back();
  return d;
}

std::string describe(const Distribution& d) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%7.1f %6zu %6zu %7zu", d.mean, d.p50, d.p95, d.max);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"deca-data: the decathlon tasks as (context, question, answer) triples"};
  cli.require_subcommand(1);
  std::string data_root = deca::DataOptions{}.data_root;  // the one default of data.data_root
  bool skip_bad = false, verbose = false;
  cli.add_flag("-v,--verbose", verbose, "debug logging");

  auto* exp = cli.add_subcommand("export", "write one split of a task as JSONL on stdout");
  std::string task_name, split_name = "train";
  exp->add_option("--data-root", data_root, "folder with the tasks' original files (decaNLP's layout)")->capture_default_str();
  exp->add_option("--task", task_name, "task name, e.g. squad, iwslt.en.de, woz.en, or a custom task folder")->required();
  exp->add_option("--split", split_name, "train, validation or test")->capture_default_str();
  exp->add_flag("--skip-bad-records", skip_bad, "skip and count malformed records instead of stopping at the first");

  auto* stats = cli.add_subcommand("stats", "print counts and length distributions (whitespace words) per task and split");
  std::vector<std::string> tasks = deca::decathlon_tasks();
  stats->add_option("--data-root", data_root, "folder with the tasks' original files")->capture_default_str();
  stats->add_option("--tasks", tasks, "tasks to describe (default: the ten decathlon tasks)");
  stats->add_flag("--skip-bad-records", skip_bad, "skip and count malformed records");

  deca::app::setup_logging(false);
  return deca::app::run(cli, argc, argv, [&] {
    if (verbose) deca::log::set_verbose(true);
    deca::ReadOptions options;
    options.skip_bad_records = skip_bad;
    if (*exp) {
      const auto task = deca::find_task(task_name, data_root);
      deca::ReadReport report;
      const auto examples = task->read(data_root, deca::parse_split(split_name), options, &report);
      deca::OutputFile out("-");
      for (const auto& ex : examples)
        out.write(deca::to_json(ex).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
      out.close();
      deca::log::info("{} {}: {} examples{}", task_name, split_name, examples.size(),
                   report.skipped ? ", " + std::to_string(report.skipped) + " bad records skipped" : "");
      return 0;
    }
    std::printf("%-16s %-10s %8s  %-30s  %-30s  %-30s %s\n", "task", "split", "examples",
                "context words mean p50 p95 max", "question words mean p50 p95 max", "answer words mean p50 p95 max",
                "skipped");
    for (const auto& name : tasks) {
      const auto task = deca::find_task(name, data_root);
      for (auto split : {deca::Split::Train, deca::Split::Validation, deca::Split::Test}) {
        if (!task->has_split(split)) continue;
        deca::ReadReport report;
        std::vector<deca::Example> examples;
        try {
          examples = task->read(data_root, split, options, &report);
        } catch (const deca::DataError& e) {
          deca::log::warn("{} {}: {}", name, deca::to_string(split), e.what());
          continue;
        }
        std::vector<size_t> c, q, a;
        for (const auto& ex : examples) {
          c.push_back(deca::text::split_ws(ex.context).size());
          q.push_back(deca::text::split_ws(ex.question).size());
          a.push_back(deca::text::split_ws(ex.answer()).size());
        }
        std::printf("%-16s %-10s %8zu  %-30s  %-30s  %-30s %ld\n", name.c_str(), deca::to_string(split), examples.size(),
                    describe(distribution(c)).c_str(), describe(distribution(q)).c_str(),
                    describe(distribution(a)).c_str(), report.skipped);
      }
    }
    return 0;
  });
}
