// Fuzz targets: the parsers that read files a user or a download hands deca
// (the task readers, configs, JSONL golds and predictions, safetensors
// headers, WikiSQL predictions). Each target takes arbitrary bytes; a
// deca::Error is the expected answer to bad input, anything else (another
// exception, a sanitizer report, a crash or a hang) is a finding.
//
// The targets run under libFuzzer (tests/fuzz/libfuzzer_main.cpp, clang) or
// under deca_fuzz (tests/fuzz/driver.cpp), a mutation loop over seed inputs
// that needs no clang and runs in CI under AddressSanitizer and UBSan.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace deca::fuzz {

struct Target {
  std::string name;
  std::function<void(std::string_view)> run;  // throws deca::Error on bad input
  std::vector<std::string> seeds;             // valid inputs to mutate
};

// Every target. `sample_root` is data/sample (the seeds and the files each
// reader needs besides the one it fuzzes); `work_dir` is a scratch folder.
std::vector<Target> all_targets(const std::filesystem::path& sample_root, const std::filesystem::path& configs_dir,
                                const std::filesystem::path& work_dir);

}  // namespace deca::fuzz
