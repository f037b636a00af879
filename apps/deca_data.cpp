// deca-data: look at what the model will be fed.
//   deca-data export --data-root DIR --task NAME --split S   JSONL triples on stdout
//   deca-data stats  --data-root DIR [--tasks ...] [--tokenizer MODEL]
//                    counts and lengths per task and split; with a tokenizer also the
//                    share of copyable answers and what the training filter drops
//   deca-data tokenizer --config FILE [--data-root DIR] --output MODEL   train the config's tokenizer
//   deca-data encode --tokenizer MODEL [--input FILE|-]   {"pieces": [...], "ids": [...]} per text line
//   deca-data decode --tokenizer MODEL [--input FILE|-]   the text of each {"ids": [...]} line
#include <cstdio>
#include <functional>
#include <iostream>

#include "app_common.h"
#include "deca/core/config.h"
#include "deca/core/io.h"
#include "deca/data/splits.h"
#include "deca/data/stats.h"
#include "deca/tasks/task.h"

namespace {

std::string describe(const deca::Distribution& d) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%7.1f %6zu %6zu %7zu", d.mean, d.p50, d.p95, d.max);
  return buf;
}

std::string percent(long n, long of) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", of ? 100.0 * static_cast<double>(n) / static_cast<double>(of) : 0.0);
  return buf;
}

std::string describe(const deca::Drops& d) {
  return std::to_string(d.long_answer) + "/" + std::to_string(d.long_context) + "/" + std::to_string(d.empty) + "/" +
         std::to_string(d.placeholder);
}

// Calls fn(line, number) for each line of `path` or, for "-", of standard input.
void each_line(const std::string& path, const std::function<void(std::string_view, long)>& fn) {
  if (path != "-") return deca::for_each_line(path, fn);
  deca::LineReader reader(0, "<stdin>");
  std::string line;
  while (reader.next(line)) fn(line, reader.line_number());
}

// deca-data encode / decode: one output line per input line.
int encode_or_decode(bool encoding, const std::string& tokenizer_file, const std::string& input) {
  const auto tokenizer = deca::Tokenizer::load(tokenizer_file);
  deca::OutputFile out("-");
  int status = 0;
  each_line(input, [&](std::string_view line, long n) {
    if (encoding) {
      const auto ids = tokenizer->encode(line);
      nlohmann::json pieces = nlohmann::json::array();
      for (int32_t id : ids) pieces.push_back(tokenizer->piece(id));
      out.write(nlohmann::json{{"pieces", pieces}, {"ids", ids}}.dump(-1, ' ', false,
                                                                      nlohmann::json::error_handler_t::replace) +
                "\n");
      return;
    }
    std::vector<int32_t> ids;
    try {
      const auto j = nlohmann::json::parse(line);
      for (const auto& v : j.at("ids")) {
        const auto id = v.get<int64_t>();
        if (id < 0 || id >= tokenizer->vocab_size())
          throw std::out_of_range("id " + std::to_string(id) + " is outside the vocabulary (0.." +
                                  std::to_string(tokenizer->vocab_size() - 1) + ")");
        ids.push_back(static_cast<int32_t>(id));
      }
    } catch (const std::exception& e) {
      deca::log::warn("{}:{}: expected {{\"ids\": [integers]}}: {}", input, n, e.what());
      status = 1;
      out.write("\n");  // one output line per input line
      return;
    }
    out.write(tokenizer->decode(ids) + "\n");
  });
  out.close();
  return status;
}

// deca-data stats: lengths per task and split; with a tokenizer, copyability and drops.
int print_stats(const std::vector<std::string>& tasks, const std::string& data_root, const deca::ReadOptions& options,
                const std::string& tokenizer_file) {
  std::shared_ptr<const deca::Tokenizer> tokenizer;
  if (!tokenizer_file.empty()) tokenizer = deca::Tokenizer::load(tokenizer_file);
  struct Row {
    std::string task;
    deca::Split split;
    deca::CopyStats copy;
    deca::TrainingDrops drops;  // training splits only
    size_t examples;
  };
  std::vector<Row> rows;
  std::printf("%-16s %-10s %8s  %-30s  %-30s  %-30s %s\n", "task", "split", "examples",
              "context words mean p50 p95 max", "question words mean p50 p95 max", "answer words mean p50 p95 max",
              "skipped");
  const deca::DataOptions data;
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
      const auto lengths = deca::length_stats(examples);
      std::printf("%-16s %-10s %8zu  %-30s  %-30s  %-30s %ld\n", name.c_str(), deca::to_string(split), examples.size(),
                  describe(lengths.context).c_str(), describe(lengths.question).c_str(),
                  describe(lengths.answer).c_str(), report.skipped);
      if (!tokenizer) continue;
      rows.push_back(
          {name, split, deca::copy_stats(examples, *tokenizer),
           split == deca::Split::Train ? deca::training_drops(name, examples, *tokenizer, data) : deca::TrainingDrops{},
           examples.size()});
    }
  }
  if (!tokenizer) return 0;
  std::printf(
      "\ncopyable: first gold answer occurs as a contiguous run in the context or question, in %s units "
      "(scheme %s) and in revtok words\ntraining drops: answer > %ld words / context > %ld words / "
      "empty / placeholder summary, by deca's filter and by decaNLP's rules\n",
      tokenizer_file.c_str(), tokenizer->scheme().c_str(), data.max_answer_tokens, data.max_context_tokens);
  std::printf("%-16s %-10s %8s  %8s  %8s  %-18s %-18s\n", "task", "split", "examples", "units", "words", "deca drops",
              "decaNLP drops");
  for (const auto& r : rows) {
    const bool train = r.split == deca::Split::Train;
    std::printf("%-16s %-10s %8zu  %8s  %8s  %-18s %-18s\n", r.task.c_str(), deca::to_string(r.split), r.examples,
                percent(r.copy.copyable_units, r.copy.answers).c_str(),
                percent(r.copy.copyable_words, r.copy.answers).c_str(), train ? describe(r.drops.deca).c_str() : "-",
                train ? describe(r.drops.decanlp).c_str() : "-");
  }
  return 0;
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
  exp->add_option("--data-root", data_root, "folder with the tasks' original files (decaNLP's layout)")
      ->capture_default_str();
  exp->add_option("--task", task_name, "task name, e.g. squad, iwslt.en.de, woz.en, or a custom task folder")
      ->required();
  exp->add_option("--split", split_name, "train, validation or test")->capture_default_str();
  exp->add_flag("--skip-bad-records", skip_bad, "skip and count malformed records instead of stopping at the first");

  auto* stats =
      cli.add_subcommand("stats", "print counts and length distributions (whitespace words) per task and split");
  stats->footer("With --tokenizer, two more tables: copyability and the training filter's drops.");
  std::vector<std::string> tasks = deca::decathlon_tasks();
  stats->add_option("--data-root", data_root, "folder with the tasks' original files")->capture_default_str();
  stats->add_option("--tasks", tasks, "tasks to describe (default: the ten decathlon tasks)");
  stats->add_flag("--skip-bad-records", skip_bad, "skip and count malformed records");
  std::string tokenizer_file;
  stats->add_option(
      "--tokenizer", tokenizer_file,
      "also report, per task and split, the share of first gold answers that occur as a contiguous run of "
      "this tokenizer's units (and of revtok words) in the context or question, and the training examples "
      "that deca's filter and decaNLP's rules drop");

  auto* train_tok =
      cli.add_subcommand("tokenizer", "train the tokenizer that a config would train, on its tasks' training splits");
  std::string config_file, output;
  std::vector<std::string> sets;
  train_tok->add_option("--config", config_file, "JSON config (its tokenizer and curriculum sections)")
      ->required()
      ->check(CLI::ExistingFile);
  auto* tok_data_root =
      train_tok->add_option("--data-root", data_root, "folder with the tasks' original files (default: the config's)");
  train_tok->add_option("--set", sets, "override a config key: --set tokenizer.vocab_size=8000 (repeatable)");
  train_tok->add_option("--output", output, "model file to write (a .json sidecar is written beside it)")->required();

  std::string input = "-";
  auto* enc = cli.add_subcommand("encode", "tokenize text lines: one JSON line {\"pieces\", \"ids\"} per input line");
  enc->add_option("--tokenizer", tokenizer_file, "tokenizer model (a run's tokenizer.model)")->required();
  enc->add_option("--input", input, "text file, one text per line, or - for stdin")->capture_default_str();
  auto* dec = cli.add_subcommand("decode", "detokenize JSON lines {\"ids\": [...]}: one text line each");
  dec->add_option("--tokenizer", tokenizer_file, "tokenizer model (a run's tokenizer.model)")->required();
  dec->add_option("--input", input, "JSONL file or - for stdin")->capture_default_str();

  deca::app::setup_logging(false);
  return deca::app::run(cli, argc, argv, [&] {
    if (verbose) deca::log::set_verbose(true);
    if (*train_tok) {
      deca::Config config = deca::load_config(config_file);
      config = deca::apply_overrides(config, sets);
      if (*tok_data_root) config.data.data_root = data_root;
      deca::validate(config);
      deca::announce_data_root(config.data.data_root);
      deca::train_tokenizer(config, config.all_tasks(), output);
      const auto t = deca::Tokenizer::load(output);
      deca::log::info("wrote {} (scheme {}, {} pieces)", output, t->scheme(), t->vocab_size());
      return 0;
    }
    if (*enc || *dec) return encode_or_decode(static_cast<bool>(*enc), tokenizer_file, input);
    deca::ReadOptions options;
    options.skip_bad_records = skip_bad;
    deca::announce_data_root(data_root);
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
    return print_stats(tasks, data_root, options, tokenizer_file);
  });
}
