// What `deca-data stats` reports of a split: length distributions, the share
// of gold answers the pointer can copy, and what the training filter drops,
// beside decaNLP's own rules on the same examples. No LibTorch.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "deca/core/config.h"
#include "deca/data/tokenizer.h"
#include "deca/tasks/example.h"

namespace deca {

struct Distribution {
  double mean = 0;
  size_t p50 = 0, p95 = 0, max = 0;
};
Distribution distribution(std::vector<size_t> values);

// Whitespace-word lengths of the contexts, questions and first answers.
struct LengthStats {
  Distribution context, question, answer;
};
LengthStats length_stats(const std::vector<Example>& examples);

// Training examples dropped, by reason (a 50-word answer, a 400-word context,
// an empty field, a placeholder summary).
struct Drops {
  long long_answer = 0, long_context = 0, empty = 0, placeholder = 0;
  bool operator==(const Drops& o) const {
    return long_answer == o.long_answer && long_context == o.long_context && empty == o.empty &&
           placeholder == o.placeholder;
  }
};

struct CopyStats {
  long answers = 0;         // non-empty first answers
  long copyable_units = 0;  // occurring as a contiguous run of the tokenizer's units in the context or question
  long copyable_words = 0;  // the same in revtok words (decaNLP's tokens)
};
CopyStats copy_stats(const std::vector<Example>& examples, const Tokenizer& tokenizer);

struct TrainingDrops {
  Drops deca;     // deca's training filter (EncodeOptions, training)
  Drops decanlp;  // decaNLP's rules, counted on revtok words
};
// `task` decides whether long contexts are truncated (CNN/DailyMail) rather than dropped.
TrainingDrops training_drops(const std::string& task, const std::vector<Example>& examples, const Tokenizer& tokenizer,
                             const DataOptions& data);

}  // namespace deca
