// From a config to tokenized data: the tasks' splits read, the tokenizer
// trained (or loaded) and every split encoded through the cache. No LibTorch.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "deca/core/config.h"
#include "deca/data/encoded.h"
#include "deca/data/tokenizer.h"
#include "deca/tasks/task.h"

namespace deca {

struct TaskSplit {
  std::shared_ptr<const Task> task;
  Split split = Split::Train;
  std::vector<Example> examples;  // as read
  EncodedSplit encoded;           // tokenized; for training, filtered
  long skipped = 0;               // bad records skipped while reading
};

// Reads a split of a task under the config's data options (errors or skips bad records).
std::vector<Example> read_split(const Task& task, const Config& config, Split split, long* skipped = nullptr);

// The tokenizer of a run: config.tokenizer.model if set, else `model_file` if
// it exists, else one trained on the training splits of `tasks` and written to `model_file`.
std::shared_ptr<const Tokenizer> prepare_tokenizer(const Config& config, const std::vector<std::string>& tasks,
                                                   const std::filesystem::path& model_file);

// Reads and encodes one split of each task (cached under `cache_dir`).
std::vector<TaskSplit> load_splits(const Config& config, const std::vector<std::string>& tasks, Split split,
                                   const Tokenizer& tokenizer, const std::filesystem::path& cache_dir);

}  // namespace deca
