// deca_fuzz: runs every fuzz target (tests/fuzz/targets.h) on mutations of its
// seeds for a bounded time and reports runs and findings per target.
//   deca_fuzz [--seconds N] [--target SUBSTRING] [--seed S] [--sample DIR] [--configs DIR]
//   deca_fuzz --write-seeds DIR     each target's seeds into DIR/<target>/ (a libFuzzer corpus)
// Deterministic for a seed and a number of runs per target (--runs N instead
// of --seconds). Exit code 1 when any target had a finding: an exception that
// is not a deca::Error. Sanitizer reports end the process; the input that
// caused one is written to fuzz-crash-<target>.bin in the working directory.
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <random>
#include <typeinfo>

#include <unistd.h>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/core/log.h"
#include "targets.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

namespace fs = std::filesystem;

namespace {

using namespace std::string_view_literals;
// string_views, so that the NUL byte is a token like the others.
constexpr std::string_view kTokens[] = {"\""sv,
                                        "{"sv,
                                        "}"sv,
                                        "["sv,
                                        "]"sv,
                                        ","sv,
                                        ":"sv,
                                        "\n"sv,
                                        "\t"sv,
                                        "\r\n"sv,
                                        "\0"sv,
                                        "\xff"sv,
                                        "\xc3",
                                        "\xe2\x96\x81",
                                        "-1",
                                        "0",
                                        "18446744073709551616",
                                        "9223372036854775807",
                                        "1e400",
                                        "-0",
                                        "null",
                                        "true",
                                        "[]",
                                        "{}",
                                        "\"\"",
                                        "?",
                                        "/",
                                        "|||",
                                        "[a/b]",
                                        "<doc docid=\"x\">",
                                        "</doc>",
                                        "\\u0000",
                                        "\\ud800",
                                        "Col1",
                                        "Cond2",
                                        " where ",
                                        "label,sentence",
                                        "\n\n"};

class Mutator {
 public:
  explicit Mutator(uint64_t seed) : rng_(seed) {}
  size_t below(size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  std::string mutate(std::string s, const std::vector<std::string>& others) {
    const size_t count = 1 + below(4);
    for (size_t k = 0; k < count; ++k) {
      const size_t pos = below(s.size() + 1);
      switch (below(10)) {
        case 0:
          if (!s.empty()) s[below(s.size())] ^= static_cast<char>(1 << below(8));
          break;
        case 1:
          if (!s.empty()) s[below(s.size())] = static_cast<char>(below(256));
          break;
        case 2: {
          if (!s.empty()) s[below(s.size())] = kTokens[below(std::size(kTokens))].front();
          break;
        }
        case 3:
          for (size_t i = 0, n = 1 + below(8); i < n; ++i) s.insert(pos, 1, static_cast<char>(below(256)));
          break;
        case 4: {
          s.insert(pos, std::string(kTokens[below(std::size(kTokens))]));
          break;
        }
        case 5:
          s.erase(pos, 1 + below(16));
          break;
        case 6:
          if (!s.empty()) {
            const size_t from = below(s.size());
            s.insert(pos, s.substr(from, 1 + below(64)));
          }
          break;
        case 7:
          s.resize(below(s.size() + 1));
          break;
        case 8: {
          const std::string& o = others[below(others.size())];
          if (!o.empty()) s.replace(pos, below(32), o.substr(below(o.size()), 1 + below(64)));
          break;
        }
        default: {
          // A number replaced by an extreme one.
          const size_t d = s.find_first_of("0123456789", pos);
          if (d != std::string::npos) {
            const size_t end = s.find_first_not_of("0123456789", d);
            const char* numbers[] = {"18446744073709551616", "-1", "0", "9223372036854775807", "4294967296", "1e400"};
            s.replace(d, (end == std::string::npos ? s.size() : end) - d, numbers[below(std::size(numbers))]);
          }
        }
      }
    }
    if (s.size() > (1u << 16)) s.resize(1u << 16);
    return s;
  }

 private:
  std::mt19937_64 rng_;
};

const std::string* g_current = nullptr;  // the input being run, for the crash file
std::string g_current_target;

void write_crash_input() {
  if (!g_current) return;
  const std::string name = "fuzz-crash-" + g_current_target + ".bin";
  if (FILE* f = std::fopen(name.c_str(), "wb")) {
    std::fwrite(g_current->data(), 1, g_current->size(), f);
    std::fclose(f);
    std::fprintf(stderr, "deca_fuzz: the input is in %s\n", name.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 60;
  long runs_per_target = 0;
  uint64_t seed = 1;
  std::string only;
  fs::path seeds_dir;
  fs::path sample = fs::path(DECA_SOURCE_DIR) / "data" / "sample", configs = fs::path(DECA_SOURCE_DIR) / "configs";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--seconds")
      seconds = std::stod(v);
    else if (k == "--runs")
      runs_per_target = std::stol(v);
    else if (k == "--seed")
      seed = std::stoull(v);
    else if (k == "--target")
      only = v;
    else if (k == "--sample")
      sample = v;
    else if (k == "--configs")
      configs = v;
    else if (k == "--write-seeds")
      seeds_dir = v;
    else {
      std::fprintf(
          stderr,
          "usage: deca_fuzz [--seconds N | --runs N] [--target SUBSTRING] [--seed S] [--sample DIR] [--configs DIR]\n");
      return 2;
    }
  }
#if defined(__SANITIZE_ADDRESS__)
  __sanitizer_set_death_callback(write_crash_input);
#endif
  deca::log::setup(false);
  deca::log::silence();
  // Readers write their input files: tmpfs when there is one, so runs are not disk-bound.
  const fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
  const fs::path work = base / ("deca-fuzz-" + std::to_string(::getpid()));
  fs::create_directories(work);
  auto targets = deca::fuzz::all_targets(sample, configs, work);
  std::vector<deca::fuzz::Target*> chosen;
  for (auto& t : targets)
    if (only.empty() || t.name.find(only) != std::string::npos) chosen.push_back(&t);
  if (!seeds_dir.empty()) {
    for (auto* t : chosen) {
      std::string name = t->name;
      for (auto& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      for (size_t i = 0; i < t->seeds.size(); ++i)
        deca::write_file_atomic(seeds_dir / name / ("seed-" + std::to_string(i)), t->seeds[i]);
    }
    fs::remove_all(work);
    return 0;
  }
  const double per_target = seconds / static_cast<double>(std::max<size_t>(1, chosen.size()));

  std::printf("%-28s %9s %9s %9s %8s %10s\n", "target", "runs", "rejected", "accepted", "findings", "slowest ms");
  long total_runs = 0, total_findings = 0;
  for (auto* t : chosen) {
    Mutator m(seed ^ std::hash<std::string>{}(t->name));
    std::vector<std::string> corpus = t->seeds;
    long runs = 0, rejected = 0, accepted = 0, findings = 0;
    double slowest = 0;
    g_current_target = t->name;
    for (auto& c : g_current_target)
      if (c == ':' || c == '/') c = '_';
    const auto start = std::chrono::steady_clock::now();
    while (true) {
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (runs_per_target > 0 ? runs >= runs_per_target : elapsed >= per_target) break;
      // Seeds unchanged first, then mutations of the corpus.
      const std::string input = runs < static_cast<long>(t->seeds.size())
                                    ? t->seeds[static_cast<size_t>(runs)]
                                    : m.mutate(corpus[m.below(corpus.size())], corpus);
      g_current = &input;
      const auto t0 = std::chrono::steady_clock::now();
      try {
        t->run(input);
        ++accepted;
        if (corpus.size() < 256) corpus.push_back(input);  // inputs that parse lead deeper
      } catch (const deca::Error&) {
        ++rejected;
      } catch (const std::exception& e) {
        ++findings;
        if (findings <= 3) {
          std::fprintf(stderr, "finding in %s (run %ld): %s: %s\n", t->name.c_str(), runs, typeid(e).name(), e.what());
          write_crash_input();
        }
      }
      g_current = nullptr;
      slowest =
          std::max(slowest, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      ++runs;
    }
    std::printf("%-28s %9ld %9ld %9ld %8ld %10.1f\n", t->name.c_str(), runs, rejected, accepted, findings, slowest);
    std::fflush(stdout);
    total_runs += runs;
    total_findings += findings;
  }
  fs::remove_all(work);
  std::printf("%ld runs, %ld findings, seed %llu\n", total_runs, total_findings, static_cast<unsigned long long>(seed));
  return total_findings > 0 ? 1 : 0;
}
