// What every deca executable shares: logging to stderr and turning errors into
// one clear message and a non-zero exit code.
#pragma once

#include <CLI/CLI.hpp>

#include <malloc.h>

#include <exception>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "deca/core/error.h"
#include "deca/core/log.h"
#include "deca/core/suggest.h"
#include "deca/core/version.h"
#include "deca/kernels/isa.h"

namespace deca::app {

// Keeps freed memory in the process instead of returning it to the kernel at
// every step: training frees and reallocates the same large tensors each step,
// and serving the page faults of fresh mappings costs time (docs/benchmarks.md,
// what is kept). 32 MiB is glibc's largest mmap threshold. Where the
// executable is linked with tcmalloc (CMake's DECA_TCMALLOC), mallopt is a
// no-op: tcmalloc keeps freed pages in its own page heap.
inline void keep_freed_memory() {
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
}

inline void setup_logging(bool verbose) {
  keep_freed_memory();
  deca::log::setup(verbose);
}

// Option checks with short messages ("must be >= 0, got -1").
inline CLI::Validator at_least(long minimum) {
  return CLI::Validator(
      [minimum](std::string& s) -> std::string {
        try {
          size_t used = 0;
          const long v = std::stol(s, &used);
          if (used == s.size() && v >= minimum) return "";
        } catch (const std::exception&) {
        }
        return "must be an integer >= " + std::to_string(minimum) + ", got " + s;
      },
      ">=" + std::to_string(minimum));
}

// The options of the executables that decode with a checkpoint (deca-eval, deca-predict).
// --output-precision: the output layer's arithmetic in CPU decoding
// (deca::model::OutputPrecision), declared on `cli`.
inline void add_output_precision(CLI::App& cli, std::string& precision) {
  cli.add_option("--output-precision", precision,
                 "the output layer in CPU decoding: fp32, or bf16 (lossy, about twice as fast on CPUs with "
                 "AVX512-BF16; fp32 elsewhere)")
      ->capture_default_str()
      ->check(CLI::IsMember({"fp32", "bf16"}));
}

// Onto DecodeOptions (a template: this header does not include LibTorch).
template <class DecodeOptions>
void apply_output_precision(const std::string& precision, DecodeOptions& options) {
  using Precision = decltype(options.output_precision);
  options.output_precision = precision == "bf16" ? Precision::bf16 : Precision::fp32;
  if (precision == "bf16" && !deca::kernels::has_bf16_dot())
    deca::log::warn("--output-precision bf16: this CPU has no AVX512-BF16; the output layer runs in fp32");
}

struct CheckpointFlags {
  std::string checkpoint, device = "cpu", output_precision = "fp32";
  long beam = 1, batch_tokens = 0, threads = 0;
  // Declares them; returns --checkpoint (deca-predict requires it).
  CLI::Option* add_to(CLI::App& cli) {
    auto* option = cli.add_option("--checkpoint", checkpoint, "checkpoint folder, or run folder (its best checkpoint)");
    cli.add_option("--beam", beam, "beam size (1: greedy)")->capture_default_str()->check(CLI::Range(1, 256));
    cli.add_option("--batch-tokens", batch_tokens, "token budget per decoding batch (default: the checkpoint's)")
        ->check(at_least(1));
    cli.add_option("--device", device, "cpu, cuda or cuda:N")->capture_default_str();
    cli.add_option("--threads", threads, "CPU threads (default: OMP_NUM_THREADS, else the CPUs this process may use)")
        ->check(at_least(1));
    add_output_precision(cli, output_precision);
    return option;
  }
  // Onto a checkpoint's deca::EvalOptions.
  template <class EvalOptions>
  void apply(EvalOptions& options) const {
    options.decode.beam = beam;
    if (batch_tokens > 0) options.max_tokens = batch_tokens;
    apply_output_precision(output_precision, options.decode);
  }
};

// "did you mean --steps?" for each unexpected --option near a known one.
inline std::string option_suggestions(CLI::App& cli) {
  std::vector<std::string> names;
  std::function<void(CLI::App*)> collect = [&](CLI::App* app) {
    for (const auto* o : app->get_options())
      for (const auto& l : o->get_lnames()) names.push_back("--" + l);
    for (auto* sub : app->get_subcommands([](CLI::App*) { return true; })) collect(sub);
  };
  collect(&cli);
  std::string out;
  for (const auto& arg : cli.remaining(true)) {
    if (arg.rfind("--", 0) != 0) continue;
    const std::string flag = arg.substr(0, arg.find('='));
    if (const auto near = deca::nearest_name(flag, names); !near.empty())
      out += flag + ": did you mean " + near + "?\n";
  }
  return out;
}

// Parses the command line (--version: the program, deca's version and commit)
// and runs `body`; exit codes: 0 ok, 1 error, 2 usage,
// 130 stopped by a signal.
inline int run(CLI::App& cli, int argc, char** argv, const std::function<int()>& body) {
  cli.set_version_flag("--version", std::filesystem::path(argv[0]).filename().string() + " " + deca::version() +
                                        " (commit " + deca::build_commit() + ")");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = cli.exit(e);  // --help, --version: 0; any usage error: 2
    if (code != 0) std::cerr << option_suggestions(cli);
    return code == 0 ? 0 : 2;
  }
  try {
    return body();
  } catch (const deca::Interrupted& e) {
    deca::log::warn("{}", e.what());
    return 130;
  } catch (const deca::ConfigError& e) {
    deca::log::error("{}", e.what());
    return 2;
  } catch (const deca::Error& e) {
    deca::log::error("{}", e.what());
    return 1;
  } catch (const std::exception& e) {
    deca::log::error("unexpected error: {}", e.what());
    return 1;
  }
}

}  // namespace deca::app
