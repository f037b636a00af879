// From a config to tokenized data: the tasks' splits read, the tokenizer
// trained (or loaded) and every split encoded, through the cache when given one.
// The one place that reads a task's split for training, validation, evaluation
// and prediction. No LibTorch.
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

// Reads a split of a task under the config's data options (errors or skips bad
// records): the first data.subsample examples when that is set.
std::vector<Example> read_split(const Task& task, const Config& config, Split split, long* skipped = nullptr);

// Trains the tokenizer that config.tokenizer describes on the training splits
// of `tasks` (contexts, questions and every gold answer) and writes `model_file`.
void train_tokenizer(const Config& config, const std::vector<std::string>& tasks,
                     const std::filesystem::path& model_file);

// The tokenizer of a run: config.tokenizer.model if set, else `model_file` if
// it exists, else one trained on the training splits of `tasks` and written to `model_file`.
std::shared_ptr<const Tokenizer> prepare_tokenizer(const Config& config, const std::vector<std::string>& tasks,
                                                   const std::filesystem::path& model_file);

// Reads and encodes one split of each task (cached under `cache_dir`), as
// training reads it: training splits filtered by decaNLP's rules (and an empty
// one is an error), data.subsample applied.
std::vector<TaskSplit> load_splits(const Config& config, const std::vector<std::string>& tasks, Split split,
                                   const Tokenizer& tokenizer, const std::filesystem::path& cache_dir);

// How evaluation and prediction read a split: all of it (data.subsample is the
// training run's), or the first `max_examples` when > 0; nothing filtered, long
// contexts truncated; encoded through `cache_dir` when it is not empty.
struct EvalRead {
  long max_examples = 0;
  std::filesystem::path cache_dir;
};
std::vector<Example> read_eval_examples(const Config& config, const Task& task, Split split, long max_examples = 0,
                                        long* skipped = nullptr);
TaskSplit read_eval_split(const Config& config, std::shared_ptr<const Task> task, Split split,
                          const Tokenizer& tokenizer, const EvalRead& read = {});

}  // namespace deca
