// Answering a stream of question lines, as deca-predict does: lines gathered
// in chunks, each chunk decoded in batches, and exactly one JSON line written
// per input line, in input order: {"id", "answer"[, "score"][, "nbest"]}, or
// {"id", "error"} for a line that cannot be answered.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "deca/core/config.h"
#include "deca/core/io.h"
#include "deca/infer/checkpoint.h"
#include "deca/infer/predict.h"
#include "deca/tasks/jsonl.h"

namespace deca {

struct AnswerOptions {
  EvalOptions eval;     // batching and decoding
  DataOptions data;     // the checkpoint's length limits (contexts and questions are truncated)
  bool scores = false;  // add the answer's log-probability as "score"
  // > 1: an "nbest" list of up to this many distinct answers, best first. The
  // decoder returns every finished beam hypothesis (eval.decode.nbest is set
  // to the beam); hypotheses whose pieces detokenize to the same answer count once.
  long nbest = 1;
  long chunk = 512;                             // lines answered together
  std::function<void(long lines)> after_chunk;  // e.g. a progress line: the lines written so far
};

class Answerer {
 public:
  Answerer(const Predictor& predictor, AnswerOptions options, OutputFile& out);
  // Queues a line; answers the queue when it holds a chunk.
  void add(QuestionLine line);
  // Answers what is queued (also when the input pauses) and hands the lines to the output.
  void flush();

  long lines() const { return lines_; }
  long failed() const { return failed_; }        // lines answered with an error
  long truncated() const { return truncated_; }  // contexts and questions cut to the length limits

 private:
  const Predictor& predictor_;
  AnswerOptions options_;
  OutputFile& out_;
  std::vector<QuestionLine> queue_;
  long lines_ = 0, failed_ = 0, truncated_ = 0;
};

}  // namespace deca
