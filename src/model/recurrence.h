// The LSTM recurrence of a whole sequence as one autograd node (CPU, float32).
#pragma once

#include <torch/torch.h>

namespace deca::model {

// True when lstm_recurrence can run on these tensors (float32 on the CPU).
bool fused_recurrence_applies(const torch::Tensor& gates_x, const torch::Tensor& w_hh);

// One LSTM run over (B, L, 4h) input gates (x W_ih^T + b, gate order i, f, g,
// o as in torch::nn::LSTM) with recurrent weights w_hh (4h, h), from zero state.
// Step t of row r reads the gates at position order[r][t] ((B, L) int64, a
// permutation of each row; undefined: position t): a backward direction runs
// over the same gates as the forward one, in its own order, without a
// reversed copy of its input.
struct RecurrenceRun {
  torch::Tensor gates_x, w_hh, order;
};

// Independent runs (a bidirectional layer's two directions), one per thread
// when there are several. Returns per run the hidden and cell states after
// each step, (B, L, h) each, by position: state [r][order[r][t]] is the one
// after step t. Forward and backward are each one small matrix product and
// one fused element-wise loop per step, and the gradient of w_hh is one
// product over all steps at the end: what ATen's CPU LSTM cell spends in a
// dozen operators and their autograd nodes per step.
std::vector<std::pair<torch::Tensor, torch::Tensor>> lstm_recurrences(const std::vector<RecurrenceRun>& runs);

}  // namespace deca::model
