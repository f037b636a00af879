// Decoding: greedy and batched beam search over any Seq2Seq model. The
// encoder runs once per batch; the decoder steps incrementally.
#pragma once

#include <vector>

#include "deca/model/model.h"

namespace deca::model {

struct Hypothesis {
  std::vector<int32_t> tokens;  // without <bos>/<eos>
  double score = 0;             // sum of token log-probabilities (the <eos> included)
  double normalized = 0;        // score / length^length_penalty, what beams are ranked by
};

struct DecodeOptions {
  int64_t beam = 1;             // 1 = greedy
  int64_t nbest = 1;            // hypotheses returned per example (<= beam)
  double length_penalty = 1.0;  // 0: raw sum of log-probabilities
  int64_t max_length = 100;     // words (Vocabulary::word_marks) per hypothesis, <eos> not counted
  OutputPrecision output_precision = OutputPrecision::fp32;
  // Decoding steps (pieces) at most: a bound for a model that never ends a word.
  int64_t max_steps() const { return 8 * max_length + 8; }
};

// One list of hypotheses (best first) per batch row.
std::vector<std::vector<Hypothesis>> decode(Seq2Seq& model, const Batch& batch, const Vocabulary& vocab,
                                            const DecodeOptions& options);

// The model's log-probability of `tokens` followed by <eos> for each row (for tests and rescoring).
std::vector<double> sequence_scores(Seq2Seq& model, const Batch& batch, const Vocabulary& vocab,
                                    const std::vector<std::vector<int32_t>>& tokens);

}  // namespace deca::model
