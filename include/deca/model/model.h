// The models: MQAN and the S2S pointer-generator baseline, behind one
// interface used by training (loss) and decoding (encode once, then step).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "deca/core/config.h"
#include "deca/data/encoded.h"

namespace deca::model {

// Token ids the model needs to know.
struct Vocabulary {
  int64_t size = 0, pad = 0, bos = 2, eos = 3;
  // s2s: the pieces of "Context:" and "Question:" that frame its single input.
  std::vector<int32_t> context_marker, question_marker;
  // Per id, bit 0: the piece begins a word, bit 1: it ends one (the tokenizer's
  // marks); empty: every piece is a word. The decoder's length cap counts words.
  std::vector<uint8_t> word_marks;
  // Contexts and questions framed <init> ... <eos> as decaNLP frames them (the
  // pointer can copy <eos>). Off only for models of the first tokenizer scheme
  // ("pieces"), which were trained without the frame.
  bool frame_inputs = true;
  bool new_word(int32_t previous, int32_t id) const {  // previous < 0: at the start
    if (previous < 0 || word_marks.empty()) return true;
    return (word_marks[static_cast<size_t>(id)] & 1) || (word_marks[static_cast<size_t>(previous)] & 2);
  }
};

// One batch as tensors on the model's device. Answers: `answer_in` is
// <bos> a_1..a_n and `answer_out` a_1..a_n <eos>, both padded with pad.
struct Batch {
  torch::Tensor context, context_lengths;    // (B, m), (B) int64 on the CPU for packing
  torch::Tensor question, question_lengths;  // (B, n), (B)
  torch::Tensor answer_in, answer_out;       // (B, T)
  torch::Tensor target_positions;            // (target_tokens) flat indices b * T + t of the non-pad targets
  long target_tokens = 0;                    // non-pad targets
  long input_tokens = 0;                     // context + question + answer tokens
};

// Builds a batch from rows of an encoded split.
Batch make_batch(const EncodedSplit& data, const std::vector<uint32_t>& rows, const Vocabulary& vocab,
                 const torch::Device& device, bool with_answers = true);

// What decoding carries from step to step; each model defines its own.
struct DecoderState {
  virtual ~DecoderState() = default;
  // Keeps the rows `index` (a (B') int64 tensor), e.g. to expand beams or
  // drop finished examples.
  virtual void select(const torch::Tensor& index) = 0;
  // select() where `index` maps every row to a row of the same inputs (an
  // example's beams reordered): only what the steps added moves, not the
  // encoded context and question.
  virtual void reorder(const torch::Tensor& index) = 0;
};

// The output layer's arithmetic in CPU decoding. bf16: its weights and the
// decoder's output rounded to bfloat16, products summed in fp32, on CPUs with
// AVX512-BF16 (about twice fp32's rate there; elsewhere it runs as fp32). A
// lossy mode: docs/benchmarks-history.md (fourth round) says how much it
// changes answers.
enum class OutputPrecision { fp32, bf16 };

class Seq2Seq : public torch::nn::Module {
 public:
  // Mean negative log-likelihood over the non-pad target tokens.
  virtual torch::Tensor loss(const Batch& batch) = 0;
  // Runs the encoder once; `output` is the precision of the steps' output layer.
  virtual std::unique_ptr<DecoderState> start(const Batch& batch, OutputPrecision output = OutputPrecision::fp32) = 0;
  // One decoding step: the previous tokens (B) -> log p(next token) (B, V).
  // Earlier positions are never recomputed.
  virtual torch::Tensor step(DecoderState& state, const torch::Tensor& previous) = 0;
  // One decoding step's `width` most probable next tokens per row, best first:
  // log-probabilities (B, width) float32 and ids (B, width) int64. What
  // decoding uses; on the CPU it never forms the (B, V) distribution.
  virtual std::pair<torch::Tensor, torch::Tensor> step_top(DecoderState& state, const torch::Tensor& previous,
                                                           int64_t width) = 0;
};

std::shared_ptr<Seq2Seq> make_model(const ModelOptions& options, const Vocabulary& vocab);

// The part of a model a parameter belongs to, from its name: "embeddings" (the
// embedding table), "decoder" (the answer's side: its input projection,
// attention and pointer decoder), "output" (the projection to the
// vocabulary), "encoder" (everything else: what reads context and question).
std::string part_of(const std::string& parameter_name);

// Parameter count (trainable).
int64_t parameter_count(const torch::nn::Module& m);

}  // namespace deca::model
