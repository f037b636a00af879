// What the processes of a data-parallel run exchange to train as one, over a
// Communicator (distributed.h): the gradients with each step's totals in one
// all-reduce, rank 0's weights at the start, and the validation answers.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "deca/infer/predict.h"
#include "deca/train/distributed.h"

namespace deca {

// A step's numbers that every rank contributes and all need summed.
struct StepTotals {
  double loss = 0;          // the ranks' shares of the batch's loss (each weighted by its share of target tokens)
  bool bad = false;         // some rank's share of the loss was not finite
  double input_tokens = 0;  // the batch's input tokens
  bool stop = false;        // some rank was asked to stop (a signal)
};

// Sums the gradients of `trained` over the ranks in one buffer together with
// the step's totals, so that each rank's update is the one a single process
// makes on the whole batch. A parameter no rank used keeps no gradient (Adam
// leaves it alone, as in one process); a sparse gradient comes back dense.
class GradientExchange {
 public:
  GradientExchange(Communicator& comm, std::vector<torch::Tensor> trained, const torch::Device& device);
  // The sum of every rank's `mine`; the gradients of `trained` become the
  // ranks' sums. `step` names the all-reduce in errors; `seconds` gets its time.
  StepTotals sum(const StepTotals& mine, long step, double* seconds = nullptr);

 private:
  Communicator& comm_;
  std::vector<torch::Tensor> trained_;
  torch::Device device_;
  torch::Tensor buffer_;  // every gradient, then per parameter whether it has one, then the totals
};

// Every rank's `parameters` become rank 0's.
void broadcast_weights(Communicator& comm, const std::vector<torch::Tensor>& parameters);

// Rank 0's `p.answers` get every rank's answers of its share of the split
// (EvalOptions::shard), unless it was `interrupted` (its own are incomplete);
// the other ranks' stay theirs. Every rank calls it; `what` names it in errors.
void gather_answers(Communicator& comm, SplitPredictions& p, bool interrupted, const std::string& what);

// A rank's answers as bytes (per example its row, the answer's length and the
// answer, exactly), and back into `answers` by row; damaged bytes throw Error.
std::string pack_answers(const SplitPredictions& p);
void unpack_answers(const std::string& bytes, std::vector<std::string>& answers);

}  // namespace deca
