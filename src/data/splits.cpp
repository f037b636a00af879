#include "deca/data/splits.h"

#include "deca/core/error.h"
#include "deca/core/log.h"

namespace deca {

std::vector<Example> read_split(const Task& task, const Config& config, Split split, long* skipped) {
  ReadOptions options;
  options.skip_bad_records = config.data.skip_bad_records;
  ReadReport report;
  auto examples = task.read(config.data.data_root, split, options, &report);
  if (config.data.subsample > 0 && examples.size() > static_cast<size_t>(config.data.subsample))
    examples.resize(static_cast<size_t>(config.data.subsample));
  if (report.skipped) log::warn("{} {}: skipped {} bad records", task.name(), to_string(split), report.skipped);
  if (skipped) *skipped = report.skipped;
  return examples;
}

void train_tokenizer(const Config& config, const std::vector<std::string>& tasks,
                     const std::filesystem::path& model_file) {
  std::vector<std::string> texts;
  for (const auto& name : tasks) {
    const auto task = find_task(name, config.data.data_root);
    for (const auto& ex : read_split(*task, config, Split::Train)) {
      texts.push_back(ex.context);
      texts.push_back(ex.question);
      for (const auto& a : ex.answers) texts.push_back(a);
    }
  }
  log::info("training a {} tokenizer (scheme {}) of {} pieces on {} texts", config.tokenizer.model_type,
            config.tokenizer.scheme, config.tokenizer.vocab_size, texts.size());
  Tokenizer::train(texts, config.tokenizer, model_file, static_cast<unsigned int>(config.training.seed));
}

std::shared_ptr<const Tokenizer> prepare_tokenizer(const Config& config, const std::vector<std::string>& tasks,
                                                   const std::filesystem::path& model_file) {
  if (!config.tokenizer.model.empty()) return Tokenizer::load(config.tokenizer.model);
  if (std::filesystem::exists(model_file)) return Tokenizer::load(model_file);
  train_tokenizer(config, tasks, model_file);
  return Tokenizer::load(model_file);
}

std::vector<Example> read_eval_examples(const Config& config, const Task& task, Split split, long max_examples,
                                        long* skipped) {
  Config all = config;
  all.data.subsample = max_examples;
  return read_split(task, all, split, skipped);
}

TaskSplit read_eval_split(const Config& config, std::shared_ptr<const Task> task, Split split,
                          const Tokenizer& tokenizer, const EvalRead& read) {
  TaskSplit ts;
  ts.task = std::move(task);
  ts.split = split;
  ts.examples = read_eval_examples(config, *ts.task, split, read.max_examples, &ts.skipped);
  const auto options = EncodeOptions::from(config.data, false);
  ts.encoded = read.cache_dir.empty() ? encode(ts.examples, tokenizer, options)
                                      : encode_cached(ts.examples, tokenizer, options, read.cache_dir,
                                                      ts.task->name() + "." + to_string(split));
  return ts;
}

namespace {

std::string fmt_dropped(const EncodedSplit& e) {
  std::string s = ", " + std::to_string(e.dropped) + " dropped (";
  const char* sep = "";
  for (auto [n, why] : {std::pair{e.dropped_long_answer, "answer too long"},
                        {e.dropped_long_context, "context too long"},
                        {e.dropped_empty, "empty"},
                        {e.dropped_placeholder, "placeholder summary"}})
    if (n) s += sep + std::to_string(n) + " " + why, sep = ", ";
  return s + ")";
}

}  // namespace

std::vector<TaskSplit> load_splits(const Config& config, const std::vector<std::string>& tasks, Split split,
                                   const Tokenizer& tokenizer, const std::filesystem::path& cache_dir) {
  std::vector<TaskSplit> out;
  for (const auto& name : tasks) {
    TaskSplit ts;
    ts.task = find_task(name, config.data.data_root);
    ts.split = split;
    ts.examples = read_split(*ts.task, config, split, &ts.skipped);
    const auto options = EncodeOptions::from(config.data, split == Split::Train, truncates_training_contexts(name));
    bool hit = false;
    ts.encoded = encode_cached(ts.examples, tokenizer, options, cache_dir, name + "." + to_string(split), &hit);
    const auto& enc = ts.encoded;
    log::info(
        "{} {}: {} examples{}{}{} ({})", name, to_string(split), enc.size(), enc.dropped ? fmt_dropped(enc) : "",
        ts.encoded.truncated_contexts ? ", " + std::to_string(ts.encoded.truncated_contexts) + " contexts truncated"
                                      : "",
        ts.encoded.truncated_questions ? ", " + std::to_string(ts.encoded.truncated_questions) + " questions truncated"
                                       : "",
        hit ? "cached" : "tokenized");
    if (split == Split::Train && ts.encoded.size() == 0)
      throw DataError("task " + name + " has no training example left after filtering");
    out.push_back(std::move(ts));
  }
  return out;
}

}  // namespace deca
