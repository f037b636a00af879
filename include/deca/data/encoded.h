// Tokenized examples and their on-disk cache. A split is stored flat: all
// piece ids in one array, three spans (context, question, answer) per example.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "deca/core/config.h"
#include "deca/data/tokenizer.h"
#include "deca/tasks/example.h"

namespace deca {

struct Span {
  uint64_t offset = 0;
  uint32_t length = 0;
};

struct EncodedSplit {
  std::vector<int32_t> ids;       // every piece of every example
  std::vector<Span> spans;        // 3 per example: context, question, answer (no bos/eos)
  std::vector<uint32_t> source;   // index of each encoded example in the reader's output
  long truncated_contexts = 0;    // contexts cut to max_context_tokens
  long truncated_questions = 0;   // questions cut to max_question_tokens
  long dropped = 0;               // training examples dropped, the sum of the four reasons below
  long dropped_long_answer = 0;   // answer longer than max_answer_tokens words
  long dropped_long_context = 0;  // context longer than max_context_tokens words (unless the task truncates)
  long dropped_empty = 0;         // empty context or answer
  long dropped_placeholder = 0;   // CNN Student News placeholder summary ("This page includes the show ...")

  size_t size() const { return source.size(); }
  const int32_t* context(size_t i) const { return ids.data() + spans[3 * i].offset; }
  const int32_t* question(size_t i) const { return ids.data() + spans[3 * i + 1].offset; }
  const int32_t* answer(size_t i) const { return ids.data() + spans[3 * i + 2].offset; }
  uint32_t context_len(size_t i) const { return spans[3 * i].length; }
  uint32_t question_len(size_t i) const { return spans[3 * i + 1].length; }
  uint32_t answer_len(size_t i) const { return spans[3 * i + 2].length; }
};

// Lengths count words (the tokenizer's word_ends; revtok tokens as decaNLP
// counts them), and a field is cut at a word boundary.
struct EncodeOptions {
  long max_context_tokens = 400;
  long max_question_tokens = 100;
  long max_answer_tokens = 50;
  // decaNLP's training filter (docs/decisions.md, Data): drop examples whose answer is
  // longer than max_answer_tokens, whose context is longer than
  // max_context_tokens (unless truncate_contexts), whose context or answer is
  // empty, or whose answer is a CNN Student News placeholder. Without it
  // (validation, prediction) nothing is dropped and long contexts are truncated.
  bool training = false;
  bool truncate_contexts = false;  // training: cut long contexts instead of dropping them (decaNLP: CNN/DailyMail)
  static EncodeOptions from(const DataOptions& d, bool training, bool truncate_contexts = false) {
    return {d.max_context_tokens, d.max_question_tokens, d.max_answer_tokens, training, truncate_contexts};
  }
};

// Whether decaNLP truncates the contexts of this task's training examples
// rather than dropping the long ones ('cnn' or 'dailymail' in the task name).
bool truncates_training_contexts(const std::string& task_name);

// Tokenizes `examples`.
EncodedSplit encode(const std::vector<Example>& examples, const Tokenizer& tokenizer, const EncodeOptions& options);

// Like encode(), through a cache in `cache_dir`: the file is keyed by a hash of
// the examples' text, the tokenizer and the options; it is written atomically
// and verified (magic, key, size, checksum) when read: a stale or corrupt file
// is rebuilt, never trusted. `hit` tells whether the cache was used.
EncodedSplit encode_cached(const std::vector<Example>& examples, const Tokenizer& tokenizer,
                           const EncodeOptions& options, const std::filesystem::path& cache_dir,
                           const std::string& name, bool* hit = nullptr);

// The cache key of these inputs (exposed for tests).
std::string cache_key(const std::vector<Example>& examples, const Tokenizer& tokenizer, const EncodeOptions& options);

}  // namespace deca
