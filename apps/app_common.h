// What every deca executable shares: logging to stderr and turning errors into
// one clear message and a non-zero exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <functional>
#include <iostream>

#include "deca/core/error.h"

namespace deca::app {

inline void setup_logging(bool verbose) {
  auto logger = spdlog::stderr_color_mt("deca");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("[%H:%M:%S] %^%l%$ %v");
  spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::info);
}

// Parses the command line and runs `body`; exit codes: 0 ok, 1 error, 2 usage.
inline int run(CLI::App& cli, int argc, char** argv, const std::function<int()>& body) {
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  try {
    return body();
  } catch (const deca::ConfigError& e) {
    spdlog::error("{}", e.what());
    return 2;
  } catch (const deca::Error& e) {
    spdlog::error("{}", e.what());
    return 1;
  } catch (const std::exception& e) {
    spdlog::error("unexpected error: {}", e.what());
    return 1;
  }
}

}  // namespace deca::app
