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
  std::vector<int32_t> ids;        // every piece of every example
  std::vector<Span> spans;         // 3 per example: context, question, answer (no bos/eos)
  std::vector<uint32_t> source;    // index of each encoded example in the reader's output
  long truncated_contexts = 0;     // contexts cut to max_context_tokens
  long truncated_questions = 0;    // questions cut to max_question_tokens
  long dropped = 0;                // training examples dropped (answer too long, empty context or answer)

  size_t size() const { return source.size(); }
  const int32_t* context(size_t i) const { return ids.data() + spans[3 * i].offset; }
  const int32_t* question(size_t i) const { return ids.data() + spans[3 * i + 1].offset; }
  const int32_t* answer(size_t i) const { return ids.data() + spans[3 * i + 2].offset; }
  uint32_t context_len(size_t i) const { return spans[3 * i].length; }
  uint32_t question_len(size_t i) const { return spans[3 * i + 1].length; }
  uint32_t answer_len(size_t i) const { return spans[3 * i + 2].length; }
};

struct EncodeOptions {
  long max_context_tokens = 400;
  long max_question_tokens = 100;
  long max_answer_tokens = 50;
  bool training = false;  // drop long-answer and empty examples (as decaNLP's training filter)
  static EncodeOptions from(const DataOptions& d, bool training) {
    return {d.max_context_tokens, d.max_question_tokens, d.max_answer_tokens, training};
  }
};

// Tokenizes `examples`.
EncodedSplit encode(const std::vector<Example>& examples, const Tokenizer& tokenizer, const EncodeOptions& options);

// Like encode(), through a cache in `cache_dir`: the file is keyed by a hash of
// the examples' text, the tokenizer and the options; it is written atomically
// and verified (magic, key, size, checksum) when read: a stale or corrupt file
// is rebuilt, never trusted. `hit` tells whether the cache was used.
EncodedSplit encode_cached(const std::vector<Example>& examples, const Tokenizer& tokenizer, const EncodeOptions& options,
                           const std::filesystem::path& cache_dir, const std::string& name, bool* hit = nullptr);

// The cache key of these inputs (exposed for tests).
std::string cache_key(const std::vector<Example>& examples, const Tokenizer& tokenizer, const EncodeOptions& options);

}  // namespace deca
