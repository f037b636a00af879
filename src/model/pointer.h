// The pointer-generator decoders and their output distribution
// p = γ·p_vocab + (1−γ)[λ·α_context + (1−λ)·β_question]   (MQAN's dual pointer)
// p = γ·p_vocab + (1−γ)·α_input                            (S2S's single pointer)
#pragma once

#include <memory>

#include "deca/kernels/output_layer.h"
#include "deca/model/layers.h"
#include "deca/model/model.h"

namespace deca::model {

// One decoder step's outputs; `question_attention` and `lambda` are undefined
// for the single-pointer decoder.
struct PointerStep {
  torch::Tensor output;              // (B, d) the step's output, fed back at the next step
  torch::Tensor context_attention;   // (B, m)
  torch::Tensor question_attention;  // (B, n)
  torch::Tensor gamma, lambda;       // (B, 1)
  std::pair<torch::Tensor, torch::Tensor> state;
};

// All steps of a teacher-forced pass, stacked over time.
struct PointerSteps {
  torch::Tensor output;              // (B, T, d)
  torch::Tensor context_attention;   // (B, T, m)
  torch::Tensor question_attention;  // (B, T, n) or undefined
  torch::Tensor gamma, lambda;       // (B, T, 1)
};

// decaNLP's DualPtrRNNDecoder: an input-feeding LSTM decoder attending to the
// context and the question, with the vocabulary switch γ and the
// context/question switch λ. With `dual` false it is the S2S decoder: one
// attention (over the single input) and γ only.
struct DualPointerDecoderImpl : torch::nn::Module {
  // `switch_dropout`: of the two switches' feed-forward layers (decaNLP: 0.2).
  DualPointerDecoderImpl(int64_t d, int64_t layers, double dropout, double switch_dropout, bool dual = true);
  PointerStep step(const torch::Tensor& input, const torch::Tensor& context, const torch::Tensor& question,
                   const torch::Tensor& context_padding, const torch::Tensor& question_padding,
                   const std::pair<torch::Tensor, torch::Tensor>& state, const torch::Tensor& previous_output);
  PointerSteps run(const torch::Tensor& inputs, const torch::Tensor& context, const torch::Tensor& question,
                   const torch::Tensor& context_padding, const torch::Tensor& question_padding,
                   std::pair<torch::Tensor, torch::Tensor> state);
  LSTMDecoder rnn{nullptr};
  DecoderAttention context_attn{nullptr}, question_attn{nullptr};
  Feedforward vocab_pointer_switch{nullptr}, context_question_switch{nullptr};
  Dropout dropout{nullptr};
  int64_t d;
  bool dual;
};
TORCH_MODULE(DualPointerDecoder);

// Token-mean negative log-likelihood of `targets` (pad ignored) under the
// pointer mixture, computed only at the targets: no (B, T, V) mixture, and the
// output layer's (N, V) logits only a chunk of rows at a time.
// `target_positions`: the flat indices of the non-pad targets (Batch's), found
// from `targets` when undefined.
torch::Tensor pointer_nll(torch::nn::Linear& out, const PointerSteps& s, const torch::Tensor& context_ids,
                          const torch::Tensor& question_ids, const torch::Tensor& targets, int64_t pad,
                          const torch::Tensor& target_positions = {});

// log p(w) over the whole vocabulary for one step: (B, V).
torch::Tensor pointer_log_probs(torch::nn::Linear& out, const PointerStep& s, const torch::Tensor& context_ids,
                                const torch::Tensor& question_ids);

// The output layer packed for CPU decoding (deca/kernels/output_layer.h), once per batch;
// null where that path does not apply: not on the CPU, not float32, or
// gradients kept.
std::shared_ptr<const kernels::PackedRows> pack_for_decoding(const torch::nn::Linear& out, OutputPrecision precision);

// One step's `width` most probable tokens per row under the pointer mixture,
// best first: log-probabilities (B, width) float32 and ids (B, width) int64
// (-inf and 0 past the candidates, where fewer than `width` exist).
// With `packed`, without the (B, V) distribution: the packed kernel gives each
// row's log-normaliser and `width` largest logits, and only those tokens and
// the copied ones are scored (a token neither copied nor among the largest
// logits cannot outrank those). Without it, pointer_log_probs' top `width`.
std::pair<torch::Tensor, torch::Tensor> pointer_top(torch::nn::Linear& out, const kernels::PackedRows* packed,
                                                    const PointerStep& s, const torch::Tensor& context_ids,
                                                    const torch::Tensor& question_ids, int64_t width);

}  // namespace deca::model
