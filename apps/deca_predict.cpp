// deca-predict: answers for a JSONL file of {context, question[, id, task]} lines.
//   deca-predict --checkpoint DIR --input FILE|- --output FILE|- [--beam N] [--nbest K] [--scores]
//   deca-predict --checkpoint DIR --task NAME --split S --data-root DIR --output FILE|-
// Every input line gets exactly one output line, in input order; an unreadable
// line gets {"id", "error"} and a warning, and the exit code is 1. Lines are
// answered in chunks, and whenever the input pauses (interactive use).
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <iostream>

#include "app_common.h"
#include "deca/core/io.h"
#include "deca/core/stop.h"
#include "deca/train/checkpoint.h"
#include "deca/train/pipeline.h"
#include "deca/train/predict.h"

namespace {

struct Item {
  std::string id;
  std::string error;  // non-empty: the line could not be used
  deca::Example example;
};

Item parse_line(const std::string& line, long n) {
  Item item;
  item.id = std::to_string(n - 1);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const std::exception& e) {
    item.error = "line " + std::to_string(n) + ": invalid JSON";
    return item;
  }
  if (!j.is_object()) {
    item.error = "line " + std::to_string(n) + ": expected a JSON object";
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
    item.error = "line " + std::to_string(n) + ": expected string fields \"context\" and \"question\"";
    return item;
  }
  item.example.id = item.id;
  item.example.context = *context;
  item.example.question = *question;
  item.example.answers = {""};
  if (const std::string* task = text("task")) item.example.task = *task;
  return item;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"deca-predict: answer questions about contexts with a trained checkpoint"};
  std::string checkpoint, input, output = "-", device = "cpu", task_name, split = "validation", data_root;
  long beam = 1, nbest = 1, max_length = 0, batch_tokens = 0, chunk = 512;
  double length_penalty = 1.0;
  bool scores = false;
  cli.add_option("--checkpoint", checkpoint, "checkpoint folder, or run folder (its best checkpoint)")->required();
  cli.add_option("--input", input, "JSONL file of {\"context\", \"question\"[, \"id\", \"task\"]}, or - for stdin");
  cli.add_option("--output", output, "JSONL output file, or - for stdout")->capture_default_str();
  cli.add_option("--task", task_name, "predict a task's own data instead of --input");
  cli.add_option("--split", split, "with --task: train, validation or test")->capture_default_str();
  cli.add_option("--data-root", data_root, "with --task: the data folder (default: the checkpoint's)");
  cli.add_option("--beam", beam, "beam size (1: greedy)")->capture_default_str()->check(CLI::Range(1, 256));
  cli.add_option("--nbest", nbest, "hypotheses per line (adds an \"nbest\" list when > 1)")->capture_default_str()->check(CLI::Range(1, 256));
  cli.add_flag("--scores", scores, "add the answer's log-probability as \"score\"");
  cli.add_option("--length-penalty", length_penalty, "beams are ranked by score / length^penalty")->capture_default_str();
  cli.add_option("--max-length", max_length, "longest answer in words (default: the checkpoint's)")->check(deca::app::at_least(1));
  cli.add_option("--batch-tokens", batch_tokens, "token budget per batch (default: the checkpoint's)")->check(deca::app::at_least(1));
  cli.add_option("--device", device, "cpu, cuda or cuda:N")->capture_default_str();
  deca::app::setup_logging(false);
  return deca::app::run(cli, argc, argv, [&] {
    if (input.empty() == task_name.empty()) throw deca::ConfigError("give either --input or --task");
    if (nbest > beam) throw deca::ConfigError("--nbest cannot exceed --beam");
    if (!std::isfinite(length_penalty)) throw deca::ConfigError("--length-penalty must be a finite number");
    if (!input.empty() && input != "-" && output != "-" && deca::same_file(input, output))
      throw deca::ConfigError("--output " + output + " is the input file: it would be erased; choose another path");
    deca::stop::install();
    const auto dev = deca::parse_device(device);
    auto loaded = deca::load_checkpoint(checkpoint, dev);
    auto config = loaded.config;
    if (!data_root.empty()) config.data.data_root = data_root;
    deca::model::DecodeOptions decode;
    decode.beam = beam;
    decode.nbest = nbest;
    decode.length_penalty = length_penalty;
    decode.max_length = max_length > 0 ? max_length : config.model.max_output_length;
    const long budget = batch_tokens > 0 ? batch_tokens : config.batching.eval_max_tokens;

    deca::OutputFile out(output);
    const bool tty = ::isatty(STDERR_FILENO);
    const auto t0 = std::chrono::steady_clock::now();
    long total = 0, failed = 0, truncated = 0;

    // Decodes one chunk of items and writes their lines in order.
    auto flush = [&](std::vector<Item>& items) {
      std::vector<deca::Example> examples;
      for (const auto& it : items)
        if (it.error.empty()) examples.push_back(it.example);
      deca::SplitPredictions p;
      if (!examples.empty()) {
        const auto encoded = deca::encode(examples, *loaded.tokenizer, deca::EncodeOptions::from(config.data, false));
        truncated += encoded.truncated_contexts + encoded.truncated_questions;
        p = deca::predict_split(*loaded.model, *loaded.tokenizer, loaded.vocab, encoded, budget, config.batching.size_rule,
                                decode, dev);
      }
      size_t k = 0;
      for (const auto& it : items) {
        nlohmann::ordered_json line;
        line["id"] = it.id;
        if (!it.error.empty()) {
          line["error"] = it.error;
          deca::log::warn("{}", it.error);
          ++failed;
        } else {
          line["answer"] = p.answers[k];
          const auto& hyps = p.nbest[k];
          if (scores && !hyps.empty()) line["score"] = hyps.front().score;
          if (nbest > 1) {
            line["nbest"] = nlohmann::ordered_json::array();
            for (const auto& h : hyps)
              line["nbest"].push_back({{"answer", loaded.tokenizer->decode(h.tokens)}, {"score", h.score}});
          }
          ++k;
        }
        out.write(line.dump() + "\n");
      }
      out.flush();
      total += static_cast<long>(items.size());
      items.clear();
      if (tty) {
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::fprintf(stderr, "\r%ld lines, %.1f examples/s   ", total, s > 0 ? static_cast<double>(total) / s : 0.0);
      }
    };

    std::vector<Item> items;
    if (!task_name.empty()) {
      const auto task = deca::find_task(task_name, config.data.data_root);
      auto examples = deca::read_eval_examples(config, *task, deca::parse_split(split));
      for (auto& ex : examples) {
        Item it;
        it.id = ex.id;
        it.example = std::move(ex);
        items.push_back(std::move(it));
        if (static_cast<long>(items.size()) >= chunk) flush(items);
      }
    } else {
      int fd = STDIN_FILENO;
      if (input != "-") {
        deca::require_file(input, "");
        fd = ::open(input.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) throw deca::DataError::at(input, 0, "cannot open");
      }
      deca::LineReader reader(fd, input == "-" ? "standard input" : input);
      std::string line;
      // Answer what has arrived when the input pauses for 100 ms.
      auto answer_pending = [&] {
        if (!items.empty()) flush(items);
      };
      while (reader.next(line, 100, answer_pending)) {
        const long n = reader.line_number();
        if (line.find_first_not_of(" \t") == std::string::npos) {
          Item blank;
          blank.id = std::to_string(n - 1);
          blank.error = "line " + std::to_string(n) + ": empty line";
          items.push_back(std::move(blank));
        } else {
          items.push_back(parse_line(line, n));
        }
        if (static_cast<long>(items.size()) >= chunk) flush(items);
      }
      if (fd != STDIN_FILENO) ::close(fd);
    }
    if (!items.empty()) flush(items);
    out.close();
    if (tty) std::fprintf(stderr, "\n");
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    deca::log::info("{} lines in {:.1f} s ({:.1f} examples/s); {} failed; {} contexts or questions truncated to {}/{} tokens",
                 total, s, s > 0 ? static_cast<double>(total) / s : 0.0, failed, truncated, config.data.max_context_tokens,
                 config.data.max_question_tokens);
    return failed > 0 ? 1 : 0;
  });
}
