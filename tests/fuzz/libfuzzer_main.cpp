// libFuzzer entry point (clang, -DDECA_LIBFUZZER=ON): one target per run,
// chosen by $DECA_FUZZ_TARGET (a substring of its name), e.g.
//   DECA_FUZZ_TARGET=sst build-fuzz/bin/deca_libfuzzer -max_total_time=60 -rss_limit_mb=2048
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "deca/core/error.h"
#include "deca/core/log.h"
#include "targets.h"

namespace {

deca::fuzz::Target& chosen() {
  static std::vector<deca::fuzz::Target> targets = [] {
    deca::log::setup(false);
    deca::log::silence();
    const auto work = std::filesystem::temp_directory_path() / ("deca-libfuzzer-" + std::to_string(::getpid()));
    std::filesystem::create_directories(work);
    return deca::fuzz::all_targets(std::filesystem::path(DECA_SOURCE_DIR) / "data" / "sample",
                                   std::filesystem::path(DECA_SOURCE_DIR) / "configs", work);
  }();
  static deca::fuzz::Target* target = [] {
    const char* want = std::getenv("DECA_FUZZ_TARGET");
    for (auto& t : targets)
      if (want && t.name.find(want) != std::string::npos) return &t;
    std::fprintf(stderr, "set DECA_FUZZ_TARGET to one of:");
    for (auto& t : targets) std::fprintf(stderr, " %s", t.name.c_str());
    std::fprintf(stderr, "\n");
    std::exit(2);
  }();
  return *target;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    chosen().run(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const deca::Error&) {
    // Bad input, reported as such: the expected outcome.
  }
  return 0;  // any other exception escapes and is reported by libFuzzer
}
