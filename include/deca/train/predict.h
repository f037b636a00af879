// Decoding a whole tokenized split with a model: batches by token budget,
// sorted by length, answers returned in the split's order.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "deca/data/encoded.h"
#include "deca/data/tokenizer.h"
#include "deca/model/decode.h"

namespace deca {

struct SplitPredictions {
  std::vector<std::string> answers;                     // detokenized best answer per example
  std::vector<std::vector<model::Hypothesis>> nbest;    // per example, best first
  long generated_tokens = 0;
  double seconds = 0;
};

SplitPredictions predict_split(model::Seq2Seq& model, const Tokenizer& tokenizer, const model::Vocabulary& vocab,
                               const EncodedSplit& data, long max_tokens, const std::string& size_rule,
                               const model::DecodeOptions& options, const torch::Device& device,
                               const std::function<void(size_t done, size_t total)>& progress = {});

}  // namespace deca
