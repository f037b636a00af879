// deca-predict: answers for a JSONL file of {context, question[, id, task]} lines.
//   deca-predict --checkpoint DIR --input FILE|- --output FILE|- [--beam N] [--nbest K] [--scores]
//   deca-predict --checkpoint DIR --task NAME --split S --data-root DIR --output FILE|-
//   ... --shard I/N: only the I-th of N contiguous parts of the input (I from 0), so
//   that N jobs' outputs, concatenated in order, are the whole input's output.
// Every input line gets exactly one output line, in input order; an unreadable
// line gets {"id", "error"} and a warning, and the exit code is 1. Lines are
// answered in chunks, and whenever the input pauses (interactive use).
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "app_common.h"
#include "deca/core/io.h"
#include "deca/core/stop.h"
#include "deca/data/splits.h"
#include "deca/infer/answer.h"
#include "deca/model/parallel.h"

namespace {

// --shard I/N: lines [I*total/N, (I+1)*total/N) of `total`.
struct Shard {
  long index = 0, count = 1;
  long begin(long total) const { return index * total / count; }
  long end(long total) const { return (index + 1) * total / count; }
};

Shard parse_shard(const std::string& spec) {
  Shard s;
  char slash = 0, rest = 0;
  if (std::sscanf(spec.c_str(), "%ld%c%ld%c", &s.index, &slash, &s.count, &rest) != 3 || slash != '/' || s.count < 1 ||
      s.index < 0 || s.index >= s.count)
    throw deca::ConfigError("--shard expects I/N with 0 <= I < N (e.g. 0/4 ... 3/4), got \"" + spec + "\"");
  return s;
}

long count_lines(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw deca::DataError::at(path, 0, "cannot open");
  deca::LineReader reader(fd, path);
  std::string line;
  while (reader.next(line)) {
  }
  ::close(fd);
  return reader.line_number();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"deca-predict: answer questions about contexts with a trained checkpoint"};
  std::string input, output = "-", task_name, split = "validation", data_root, shard_spec;
  long nbest = 1, max_length = 0;
  double length_penalty = 1.0;
  bool scores = false;
  deca::app::CheckpointFlags model;
  model.add_to(cli)->required();
  cli.add_option("--input", input, "JSONL file of {\"context\", \"question\"[, \"id\", \"task\"]}, or - for stdin");
  cli.add_option("--output", output, "JSONL output file, or - for stdout")->capture_default_str();
  cli.add_option("--task", task_name, "predict a task's own data instead of --input");
  cli.add_option("--split", split, "with --task: train, validation or test")->capture_default_str();
  cli.add_option("--data-root", data_root, "with --task: the data folder (default: the checkpoint's)");
  cli.add_option("--nbest", nbest,
                 "distinct answers per line (adds an \"nbest\" list when > 1: answer, score, and the length-normalised "
                 "score that ranks them; beam hypotheses that detokenize alike count once, so the list may be shorter)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cli.add_flag("--scores", scores, "add the answer's log-probability as \"score\"");
  cli.add_option("--length-penalty", length_penalty, "beams are ranked by score / length^penalty")
      ->capture_default_str();
  cli.add_option("--max-length", max_length, "longest answer in words (default: the checkpoint's)")
      ->check(deca::app::at_least(1));
  cli.add_option("--shard", shard_spec,
                 "I/N: answer only the I-th (from 0) of N contiguous parts of the input; the N outputs, "
                 "concatenated in order, are the whole input's (ids stay those of the whole input)");
  deca::app::setup_logging(false);
  return deca::app::run(cli, argc, argv, [&] {
    if (input.empty() == task_name.empty()) throw deca::ConfigError("give either --input or --task");
    const Shard shard = shard_spec.empty() ? Shard{} : parse_shard(shard_spec);
    if (!shard_spec.empty() && input == "-")
      throw deca::ConfigError("--shard needs an input file (its lines are counted first), not standard input");
    if (nbest > model.beam) throw deca::ConfigError("--nbest cannot exceed --beam");
    if (!std::isfinite(length_penalty)) throw deca::ConfigError("--length-penalty must be a finite number");
    if (!input.empty() && output != "-" && deca::same_file(input, output))
      throw deca::ConfigError("--output " + output + " is the input file" + (input == "-" ? " (standard input)" : "") +
                              ": it would be erased; choose another path");
    deca::stop::install();
    deca::model::use_threads(static_cast<int>(model.threads));
    const auto loaded = deca::load_checkpoint(model.checkpoint, deca::parse_device(model.device));
    auto config = loaded.config;
    if (!data_root.empty()) config.data.data_root = data_root;
    deca::AnswerOptions options;
    options.eval = deca::EvalOptions::from(config);
    options.data = config.data;
    options.scores = scores;
    model.apply(options.eval);
    options.nbest = nbest;
    options.eval.decode.length_penalty = length_penalty;
    if (max_length > 0) options.eval.decode.max_length = max_length;
    const auto t0 = std::chrono::steady_clock::now();
    auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    auto rate = [&](long lines) { return seconds() > 0 ? static_cast<double>(lines) / seconds() : 0.0; };
    const bool tty = ::isatty(STDERR_FILENO);
    if (tty)
      options.after_chunk = [&](long lines) {
        std::fprintf(stderr, "\r%ld lines, %.1f examples/s   ", lines, rate(lines));
      };

    deca::OutputFile out(output);
    deca::Answerer answerer(loaded.predictor, options, out);
    if (!task_name.empty()) {
      deca::announce_data_root(config.data.data_root);
      const auto task = deca::find_task(task_name, config.data.data_root);
      auto examples = deca::read_eval_examples(config, *task, deca::parse_split(split));
      const long total = static_cast<long>(examples.size());
      if (shard.count > 1)
        deca::log::info("shard {}/{}: examples {} to {} of {}", shard.index, shard.count, shard.begin(total),
                        shard.end(total) - 1, total);
      for (long i = shard.begin(total); i < shard.end(total); ++i)
        answerer.add({examples[i].id, "", std::move(examples[i])});
    } else {
      int fd = STDIN_FILENO;
      long begin = 0, end = -1;  // the lines (0-based) to answer; -1: to the end
      if (input != "-") {
        deca::require_file(input, "");
        if (shard.count > 1) {
          const long total = count_lines(input);
          begin = shard.begin(total);
          end = shard.end(total);
          deca::log::info("shard {}/{}: lines {} to {} of {}", shard.index, shard.count, begin + 1, end, total);
        }
        fd = ::open(input.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) throw deca::DataError::at(input, 0, "cannot open");
      }
      deca::LineReader reader(fd, input == "-" ? "standard input" : input);
      std::string line;
      // Answer what has arrived when the input pauses for 100 ms.
      while (reader.next(line, 100, [&] { answerer.flush(); })) {
        const long index = reader.line_number() - 1;
        if (index < begin) continue;
        if (end >= 0 && index >= end) break;
        answerer.add(deca::parse_question_line(line, reader.line_number()));
      }
      if (fd != STDIN_FILENO) ::close(fd);
    }
    answerer.flush();
    out.close();
    if (tty) std::fprintf(stderr, "\n");
    deca::log::info(
        "{} lines in {:.1f} s ({:.1f} examples/s); {} failed; {} contexts or questions truncated to {}/{} tokens",
        answerer.lines(), seconds(), rate(answerer.lines()), answerer.failed(), answerer.truncated(),
        config.data.max_context_tokens, config.data.max_question_tokens);
    return answerer.failed() > 0 ? 1 : 0;
  });
}
