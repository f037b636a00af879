// The building blocks of MQAN and the S2S baseline, with decaNLP's exact
// semantics (docs/design.md, "MQAN as built"): post-norm residual blocks,
// LayerNorm over the unbiased std, multi-head attention split with
// torch::chunk and no output projection, packed BiLSTMs.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace deca::model {

constexpr double kInf = 1e10;
constexpr double kEpsilon = 1e-10;

// Inverted dropout, as torch::dropout. On the CPU in float32 the mask comes
// from a counter-based hash of each element's index, keyed by one 64-bit draw
// from LibTorch's default generator (so torch::manual_seed and the saved RNG
// state still decide it, whatever the thread count): ATen's CPU bernoulli_
// draws a Mersenne Twister number per element, serially, which took 9% of a
// SQuAD training step. Backward keeps the mask as bits, one per element.
torch::Tensor dropout(const torch::Tensor& x, double p, bool training);

// torch::bmm, (B, n, k) x (B, k, m) -> (B, n, m), with autograd. For fp32 CPU
// tensors and several threads, each thread multiplies whole matrices of the
// batch: LibTorch 1.13 runs a batch's products one after another, each split
// over the threads, and attention's (a few hundred rows by 67) leave them
// waiting half the time.
torch::Tensor batch_matmul(const torch::Tensor& a, const torch::Tensor& b);

struct DropoutImpl : torch::nn::Module {
  explicit DropoutImpl(double p_) : p(p_) {}
  torch::Tensor forward(const torch::Tensor& x) { return model::dropout(x, p, is_training()); }
  double p;
};
TORCH_MODULE(Dropout);

// activation(Linear(Dropout(x))).
struct FeedforwardImpl : torch::nn::Module {
  FeedforwardImpl(int64_t in, int64_t out, double dropout = 0.2, bool relu = false, bool bias = true);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear linear{nullptr};
  Dropout dropout{nullptr};
  bool relu;
};
TORCH_MODULE(Feedforward);

// gamma * (x - mean) / (std + eps) + beta with the unbiased std.
struct LayerNormImpl : torch::nn::Module {
  explicit LayerNormImpl(int64_t d, double eps = 1e-6);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor gamma, beta;
  double eps;
};
TORCH_MODULE(LayerNorm);

// Multi-head attention: q, k, v projections without bias, heads split by
// torch::chunk, softmax(q k^T / sqrt(d_model)), no output projection.
struct MultiHeadImpl : torch::nn::Module {
  MultiHeadImpl(int64_t d, int64_t heads, double dropout, bool causal);
  // key_padding: (B, Lk) true at padding, or undefined.
  torch::Tensor forward(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& key_padding = {});
  // Attention over already projected keys/values (incremental decoding).
  torch::Tensor attend(const torch::Tensor& pq, const torch::Tensor& pk, const torch::Tensor& pv,
                       const torch::Tensor& key_padding, bool causal);
  torch::nn::Linear wq{nullptr}, wk{nullptr}, wv{nullptr};
  Dropout dropout{nullptr};
  int64_t d, heads;
  bool causal;
};
TORCH_MODULE(MultiHead);

// Linear(h -> d)(ReLU(Linear(d -> h)(Dropout(x)))); decaNLP's dropout here is 0.2.
struct LinearReLUImpl : torch::nn::Module {
  LinearReLUImpl(int64_t d, int64_t hidden, double dropout);
  torch::Tensor forward(const torch::Tensor& x);
  Feedforward feedforward{nullptr};
  torch::nn::Linear linear{nullptr};
};
TORCH_MODULE(LinearReLU);

struct TransformerEncoderLayerImpl : torch::nn::Module {
  TransformerEncoderLayerImpl(int64_t d, int64_t heads, int64_t hidden, double dropout, double feedforward_dropout);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& padding);
  MultiHead selfattn{nullptr};
  LayerNorm selfattn_norm{nullptr};
  LinearReLU feedforward{nullptr};
  LayerNorm feedforward_norm{nullptr};
  Dropout dropout{nullptr};
};
TORCH_MODULE(TransformerEncoderLayer);

// Returns [Dropout(x), layer_1(x), ..., layer_L(x)]; no positional encodings.
struct TransformerEncoderImpl : torch::nn::Module {
  TransformerEncoderImpl(int64_t d, int64_t heads, int64_t hidden, int64_t layers, double dropout,
                         double feedforward_dropout);
  std::vector<torch::Tensor> forward(const torch::Tensor& x, const torch::Tensor& padding);
  torch::nn::ModuleList layers;
  Dropout dropout{nullptr};
};
TORCH_MODULE(TransformerEncoder);

struct TransformerDecoderLayerImpl : torch::nn::Module {
  TransformerDecoderLayerImpl(int64_t d, int64_t heads, int64_t hidden, double dropout, double feedforward_dropout);
  MultiHead selfattn{nullptr}, attention{nullptr};
  LayerNorm selfattn_norm{nullptr}, attention_norm{nullptr}, feedforward_norm{nullptr};
  LinearReLU feedforward{nullptr};
  Dropout dropout{nullptr};
  // norm(x + dropout(f(x))), the post-norm residual block.
  torch::Tensor residual(LayerNorm& norm, const torch::Tensor& x, const torch::Tensor& fx) {
    return norm->forward(x + dropout->forward(fx));
  }
};
TORCH_MODULE(TransformerDecoderLayer);

// Adds sinusoidal positions, then runs the layers; layer l attends to the
// encoder's list element l + 1.
struct TransformerDecoderImpl : torch::nn::Module {
  TransformerDecoderImpl(int64_t d, int64_t heads, int64_t hidden, int64_t layers, double dropout,
                         double feedforward_dropout);
  torch::Tensor forward(const torch::Tensor& x, const std::vector<torch::Tensor>& encoding,
                        const torch::Tensor& context_padding, const torch::Tensor& answer_padding);
  torch::nn::ModuleList layers;
  Dropout dropout{nullptr};
  int64_t d;
};
TORCH_MODULE(TransformerDecoder);

// (layers * 2, B, h) -> (layers, B, 2h): a bidirectional LSTM's final states
// with the forward and backward halves side by side (decaNLP's reshape_rnn_state).
torch::Tensor join_directions(const torch::Tensor& h);

// Positional encodings for positions [offset, offset + length) and d channels.
torch::Tensor positional_encodings(int64_t length, int64_t d, int64_t offset, const torch::TensorOptions& options);

// An LSTM over padded sequences that ignores the padding, as over packed
// sequences: outputs (B, L, 2h) with zeros at padding, and final (h, c) of
// shape (layers * 2, B, h) taken at each sequence's last token.
// On CUDA it packs the sequences for cuDNN. On the CPU it runs its own loop:
// the input projections of all steps in one matrix product, a masked
// recurrence, and the backward direction over sequences reversed within their
// lengths. ATen's packed CPU path slices its input at every step, and the
// backward pass of each slice fills a gradient the size of the whole input.
struct PackedLSTMImpl : torch::nn::Module {
  PackedLSTMImpl(int64_t in, int64_t out, bool bidirectional, int64_t layers, double dropout);
  std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> forward(const torch::Tensor& x, const torch::Tensor& lengths);
  // The packed nn::LSTM path (CUDA, and a reference for tests).
  std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> forward_packed(const torch::Tensor& x,
                                                                         const torch::Tensor& lengths);
  torch::nn::LSTM rnn{nullptr};
  int64_t layers;
  bool bidirectional;
  double dropout;
};
TORCH_MODULE(PackedLSTM);

// Dot-product attention of a decoder state over a memory:
// softmax(C h) + 1e-10 (padding masked), alignment = attn C,
// output = tanh(W [h; alignment]).
struct DecoderAttentionImpl : torch::nn::Module {
  explicit DecoderAttentionImpl(int64_t d);
  // h: (B, d); memory: (B, L, d); padding: (B, L). Returns output, attention, alignment.
  std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> forward(const torch::Tensor& h, const torch::Tensor& memory,
                                                                  const torch::Tensor& padding);
  torch::nn::Linear linear_out{nullptr};
};
TORCH_MODULE(DecoderAttention);

// A stack of LSTM cells with dropout on each layer's input.
struct LSTMDecoderImpl : torch::nn::Module {
  LSTMDecoderImpl(int64_t layers, int64_t in, int64_t hidden, double dropout);
  // state: (h, c), each (layers, B, hidden). Returns the top output and the new state.
  std::pair<torch::Tensor, std::pair<torch::Tensor, torch::Tensor>> forward(
      const torch::Tensor& x, const std::pair<torch::Tensor, torch::Tensor>& state);
  torch::nn::ModuleList cells;
  Dropout dropout{nullptr};
};
TORCH_MODULE(LSTMDecoder);

}  // namespace deca::model
