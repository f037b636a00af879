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

#include "app_common.h"
#include "deca/core/io.h"
#include "deca/core/stop.h"
#include "deca/data/splits.h"
#include "deca/infer/answer.h"
#include "deca/model/parallel.h"

int main(int argc, char** argv) {
  CLI::App cli{"deca-predict: answer questions about contexts with a trained checkpoint"};
  std::string input, output = "-", task_name, split = "validation", data_root;
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
  deca::app::setup_logging(false);
  return deca::app::run(cli, argc, argv, [&] {
    if (input.empty() == task_name.empty()) throw deca::ConfigError("give either --input or --task");
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
      for (auto& ex : deca::read_eval_examples(config, *task, deca::parse_split(split)))
        answerer.add({ex.id, "", std::move(ex)});
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
      while (reader.next(line, 100, [&] { answerer.flush(); }))
        answerer.add(deca::parse_question_line(line, reader.line_number()));
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
