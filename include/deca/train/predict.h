// Decoding a whole tokenized split with a model (batches by token budget,
// sorted by length, answers returned in the split's order), and scoring it:
// the one evaluation path of training validation, deca-eval and deca-bench.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "deca/data/encoded.h"
#include "deca/data/tokenizer.h"
#include "deca/eval/report.h"
#include "deca/model/decode.h"
#include "deca/train/pipeline.h"

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

// How a split is decoded for evaluation.
struct EvalOptions {
  long max_tokens = 20000;            // token budget per decoding batch
  std::string size_rule = "padded";
  model::DecodeOptions decode;
  // From a config: its batching budget and rule, greedy decoding up to model.max_output_length.
  static EvalOptions from(const Config& config);
};

struct SplitEvaluation {
  TaskResult result;             // the task's metrics and its decaScore entry
  SplitPredictions predictions;  // in the split's order
};

// Decodes `split` (examples and their encoding) and scores it with its task's metrics.
SplitEvaluation evaluate_split(model::Seq2Seq& model, const Tokenizer& tokenizer, const model::Vocabulary& vocab,
                               const TaskSplit& split, const EvalOptions& options, const torch::Device& device);

}  // namespace deca
