// deca-data: look at what the model will be fed.
//   deca-data export --data-root DIR --task NAME --split S   JSONL triples on stdout
//   deca-data stats  --data-root DIR [--tasks ...] [--tokenizer MODEL]
//                    counts and lengths per task and split; with a tokenizer also the
//                    share of copyable answers and what the training filter drops
//   deca-data tokenizer --config FILE [--data-root DIR] --output MODEL   train the config's tokenizer
//   deca-data encode --tokenizer MODEL [--input FILE|-]   {"pieces": [...], "ids": [...]} per text line
//   deca-data decode --tokenizer MODEL [--input FILE|-]   the text of each {"ids": [...]} line
#include <algorithm>
#include <cstdio>
#include <functional>
#include <iostream>

#include "app_common.h"
#include "deca/core/config.h"
#include "deca/core/io.h"
#include "deca/data/encoded.h"
#include "deca/tasks/task.h"
#include "deca/text/revtok.h"
#include "deca/text/unicode.h"
#include "deca/data/splits.h"

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

template <class T>
bool contains_run(const std::vector<T>& haystack, const std::vector<T>& needle) {
  return !needle.empty() && std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

std::string percent(long n, long of) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", of ? 100.0 * static_cast<double>(n) / static_cast<double>(of) : 0.0);
  return buf;
}

// Calls fn(line, number) for each line of `path` or, for "-", of standard input.
void each_line(const std::string& path, const std::function<void(std::string_view, long)>& fn) {
  if (path != "-") return deca::for_each_line(path, fn);
  deca::LineReader reader(0, "<stdin>");
  std::string line;
  while (reader.next(line)) fn(line, reader.line_number());
}

// Copyability and training-filter drops of one split under `tokenizer`, beside
// words and punctuation (revtok tokens) and decaNLP's filter rules.
void tokenizer_stats(const std::string& task, deca::Split split, const std::vector<deca::Example>& examples,
                     const deca::Tokenizer& tokenizer, const deca::DataOptions& data) {
  long answers = 0, copy_units = 0, copy_words = 0;
  long nlp_answer = 0, nlp_context = 0, nlp_empty = 0, nlp_placeholder = 0;
  const bool truncates = deca::truncates_training_contexts(task);
  for (const auto& ex : examples) {
    const auto answer = tokenizer.encode(ex.answer());
    const auto a_words = deca::text::revtok_tokenize(deca::text::lower(ex.answer()));
    const auto c_words = deca::text::revtok_tokenize(deca::text::lower(ex.context));
    if (!answer.empty()) {
      ++answers;
      if (contains_run(tokenizer.encode(ex.context), answer) || contains_run(tokenizer.encode(ex.question), answer))
        ++copy_units;
      if (contains_run(c_words, a_words) || contains_run(deca::text::revtok_tokenize(deca::text::lower(ex.question)), a_words))
        ++copy_words;
    }
    if (static_cast<long>(a_words.size()) > data.max_answer_tokens) ++nlp_answer;
    else if (!truncates && static_cast<long>(c_words.size()) > data.max_context_tokens) ++nlp_context;
    else if (a_words.empty() || c_words.empty()) ++nlp_empty;
    else if (deca::text::lower(ex.answer()).find("this page includes the show") != std::string::npos) ++nlp_placeholder;
  }
  std::string drops = "-", nlp_drops = "-";
  if (split == deca::Split::Train) {
    const auto e = deca::encode(examples, tokenizer, deca::EncodeOptions::from(data, true, truncates));
    auto fmt = [](long a, long c, long m, long p) {
      return std::to_string(a) + "/" + std::to_string(c) + "/" + std::to_string(m) + "/" + std::to_string(p);
    };
    drops = fmt(e.dropped_long_answer, e.dropped_long_context, e.dropped_empty, e.dropped_placeholder);
    nlp_drops = fmt(nlp_answer, nlp_context, nlp_empty, nlp_placeholder);
  }
  std::printf("%-16s %-10s %8zu  %8s  %8s  %-18s %-18s\n", task.c_str(), deca::to_string(split), examples.size(),
              percent(copy_units, answers).c_str(), percent(copy_words, answers).c_str(), drops.c_str(), nlp_drops.c_str());
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
  stats->footer("With --tokenizer, two more tables: copyability and the training filter's drops.");
  std::vector<std::string> tasks = deca::decathlon_tasks();
  stats->add_option("--data-root", data_root, "folder with the tasks' original files")->capture_default_str();
  stats->add_option("--tasks", tasks, "tasks to describe (default: the ten decathlon tasks)");
  stats->add_flag("--skip-bad-records", skip_bad, "skip and count malformed records");
  std::string tokenizer_file;
  stats->add_option("--tokenizer", tokenizer_file,
                    "also report, per task and split, the share of first gold answers that occur as a contiguous run of "
                    "this tokenizer's units (and of revtok words) in the context or question, and the training examples "
                    "that deca's filter and decaNLP's rules drop");

  auto* train_tok = cli.add_subcommand("tokenizer", "train the tokenizer that a config would train, on its tasks' training splits");
  std::string config_file, output;
  std::vector<std::string> sets;
  train_tok->add_option("--config", config_file, "JSON config (its tokenizer and curriculum sections)")->required();
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
      deca::train_tokenizer(config, config.all_tasks(), output);
      const auto t = deca::Tokenizer::load(output);
      deca::log::info("wrote {} (scheme {}, {} pieces)", output, t->scheme(), t->vocab_size());
      return 0;
    }
    if (*enc || *dec) {
      const auto tokenizer = deca::Tokenizer::load(tokenizer_file);
      deca::OutputFile out("-");
      int status = 0;
      each_line(input, [&](std::string_view line, long n) {
        if (*enc) {
          const auto ids = tokenizer->encode(line);
          nlohmann::json pieces = nlohmann::json::array();
          for (int32_t id : ids) pieces.push_back(tokenizer->piece(id));
          out.write(nlohmann::json{{"pieces", pieces}, {"ids", ids}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
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
    std::shared_ptr<const deca::Tokenizer> tokenizer;
    if (!tokenizer_file.empty()) tokenizer = deca::Tokenizer::load(tokenizer_file);
    std::vector<std::pair<std::string, std::pair<deca::Split, std::vector<deca::Example>>>> read_splits;
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
        if (tokenizer) read_splits.push_back({name, {split, std::move(examples)}});
      }
    }
    if (tokenizer) {
      std::printf("\ncopyable: first gold answer occurs as a contiguous run in the context or question, in %s units "
                  "(scheme %s) and in revtok words\ntraining drops: answer > %ld words / context > %ld words / "
                  "empty / placeholder summary, by deca's filter and by decaNLP's rules\n",
                  tokenizer_file.c_str(), tokenizer->scheme().c_str(), deca::DataOptions{}.max_answer_tokens,
                  deca::DataOptions{}.max_context_tokens);
      std::printf("%-16s %-10s %8s  %8s  %8s  %-18s %-18s\n", "task", "split", "examples", "units", "words",
                  "deca drops", "decaNLP drops");
      for (const auto& [name, se] : read_splits)
        tokenizer_stats(name, se.first, se.second, *tokenizer, deca::DataOptions{});
    }
    return 0;
  });
}
