#include "deca/core/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>
#include <unordered_set>

namespace deca::log {

void setup(bool verbose) {
  if (!spdlog::get("deca")) spdlog::set_default_logger(spdlog::stderr_color_mt("deca"));
  spdlog::set_pattern("[%H:%M:%S] %^%l%$ %v");
  set_verbose(verbose);
}

void set_verbose(bool verbose) { spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::info); }

void set_rank(int rank) {
  spdlog::set_pattern("[%H:%M:%S] rank " + std::to_string(rank) + " %^%l%$ %v");
  spdlog::set_level(spdlog::level::warn);
}

void silence() { spdlog::set_level(spdlog::level::off); }

bool first_time(const std::string& message) {
  static std::mutex mutex;
  static std::unordered_set<std::string> seen;
  std::lock_guard<std::mutex> lock(mutex);
  return seen.insert(message).second;
}

void write(int level, const std::string& message) {
  switch (level) {
    case 0:
      spdlog::debug("{}", message);
      break;
    case 1:
      spdlog::info("{}", message);
      break;
    case 2:
      spdlog::warn("{}", message);
      break;
    default:
      spdlog::error("{}", message);
      break;
  }
}

}  // namespace deca::log
