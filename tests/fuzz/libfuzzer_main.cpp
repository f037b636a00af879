// libFuzzer entry point (clang, -DDECA_LIBFUZZER=ON): one target per run,
// chosen by $DECA_FUZZ_TARGET (a substring of its name, or the name of its
// seed folder), e.g.
//   DECA_FUZZ_TARGET=sst build-fuzz/bin/deca_libfuzzer -max_total_time=60 -rss_limit_mb=2048
// scripts/fuzz.sh runs every target this way, starting from deca_fuzz's seeds.
#include <unistd.h>

#include <cctype>
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
    for (auto& t : targets) {
      std::string folder = t.name;  // the name deca_fuzz --write-seeds gives its seed folder
      for (auto& c : folder)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      if (want && (folder == want || t.name.find(want) != std::string::npos)) return &t;
    }
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
