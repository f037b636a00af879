// Helpers shared by the tests: where the shared real data and golden values are.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "deca/core/config.h"

namespace deca::testing {

// The shared folder with real data and golden values: $DECA_SHARED, else
// ../shared beside the source tree when it exists. Empty when absent.
inline std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("DECA_SHARED"); env && *env) return env;
  std::filesystem::path guess = std::filesystem::path(DECA_SOURCE_DIR) / ".." / "shared";
  if (std::filesystem::exists(guess / "golden")) return guess;
  return {};
}

inline std::filesystem::path source_dir() { return DECA_SOURCE_DIR; }

// A tiny model's run on the embedded sample data, into `output`: d = 32, 500
// units, 800-token batches, four tasks round robin, 12 steps of the
// transformer schedule, a checkpoint every 5, one thread. `patch` (a JSON
// merge patch: null removes a key) makes it what a test needs.
inline Config tiny_config(const std::filesystem::path& output, const nlohmann::json& patch = nlohmann::json::object()) {
  auto j = nlohmann::json::parse(R"({
    "data": {"max_context_tokens": 120},
    "tokenizer": {"vocab_size": 500},
    "batching": {"max_tokens": 800},
    "curriculum": [{"tasks": ["squad", "sst", "woz.en", "schema"], "mixing": "round_robin"}],
    "model": {"dimension": 32, "embedding_dim": 32, "transformer_hidden": 32, "transformer_heads": 2},
    "training": {"steps": 12, "lr_schedule": "transformer", "warmup": 4, "log_every": 1, "val_every": 0,
                 "save_every": 5, "keep_last": 2, "seed": 9, "threads": 1}
  })");
  j["output"] = output.string();
  j["data"]["data_root"] = (source_dir() / "data" / "sample").string();
  j.merge_patch(patch);
  return config_from_json(j);
}

// A path for a new folder under the system's temporary folder: <prefix>-<random>.
inline std::filesystem::path unique_temp_path(const std::string& prefix) {
  return std::filesystem::temp_directory_path() / (prefix + "-" + std::to_string(std::random_device{}()));
}

// A fresh folder under the system's temporary folder, removed with the object
// (a test fixture's member: one folder per test).
class TempDir {
 public:
  explicit TempDir(const std::string& prefix) : path_(unique_temp_path(prefix)) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The golden metric cases computed by the original implementations: this
// project's own files, kept in the repository so exactness is checked everywhere.
inline std::filesystem::path golden_metrics_dir() { return source_dir() / "tests" / "golden" / "metrics"; }

// The message of what `fn` throws, or "(no error)".
inline std::string what_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

struct ShellResult {
  int code = -1;
  std::string out;  // stdout and stderr
};

// Runs a shell command; its exit code and everything it printed.
inline ShellResult sh(const std::string& command) {
  ShellResult r;
  FILE* p = ::popen(("{ " + command + "; } 2>&1").c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// A TCP port on 127.0.0.1 that was free a moment ago (for a test's rendezvous).
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

inline nlohmann::json load_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

}  // namespace deca::testing

// Skips the test, saying why, when the shared folder is not there.
#define DECA_REQUIRE_SHARED(sub)                                            \
  const std::filesystem::path shared_root = ::deca::testing::shared_dir();  \
  if (shared_root.empty() || !std::filesystem::exists(shared_root / (sub))) \
  GTEST_SKIP() << "shared data not found (set DECA_SHARED to the shared folder): " << (sub)
