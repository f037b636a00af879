// The paper's S2S baseline (McCann et al. 2018; docs/decisions.md, Model): a pointer-generator over the single
// input "Context: <context> Question: <question>": embedding, one BiLSTM, an
// input-feeding LSTM decoder with one attention and the vocabulary switch γ.
#include "deca/model/layers.h"
#include "deca/model/model.h"
#include "pointer.h"

namespace deca::model {
namespace {

struct S2sState : DecoderState {
  torch::Tensor memory, padding, ids, rnn_output;
  std::pair<torch::Tensor, torch::Tensor> rnn_state;
  std::shared_ptr<const kernels::PackedRows> packed_out;  // the output layer for CPU decoding, or null
  void select(const torch::Tensor& index) override {
    memory = memory.index_select(0, index);
    padding = padding.index_select(0, index);
    ids = ids.index_select(0, index);
    reorder(index);
  }
  void reorder(const torch::Tensor& index) override {
    if (rnn_output.defined()) rnn_output = rnn_output.index_select(0, index);
    rnn_state.first = rnn_state.first.index_select(1, index);
    rnn_state.second = rnn_state.second.index_select(1, index);
  }
};

}  // namespace

class S2s : public Seq2Seq {
 public:
  S2s(const ModelOptions& o, const Vocabulary& v) : vocab_(v), d_(o.dimension) {
    // Sparse gradients: the rows a batch looks up, not a dense table (Adam
    // updates every row all the same, deca/train/adam.h).
    embedding = register_module(
        "embedding", torch::nn::Embedding(torch::nn::EmbeddingOptions(v.size, o.embedding_dim).sparse(true)));
    embedding->weight.detach().mul_(o.embedding_init_std);  // drawn N(0, 1): N(0, std^2) from the same draws
    encoder_embeddings = register_module("encoder_embeddings", Feedforward(o.embedding_dim, d_, o.dropout));
    decoder_embeddings = register_module("decoder_embeddings", Feedforward(o.embedding_dim, d_, o.dropout));
    bilstm = register_module("bilstm", PackedLSTM(d_, d_, true, o.rnn_layers, o.dropout));
    decoder = register_module("decoder",
                              DualPointerDecoder(d_, o.rnn_layers, o.dropout, o.feedforward_dropout, /*dual=*/false));
    out = register_module("out", torch::nn::Linear(d_, v.size));
  }

  torch::Tensor loss(const Batch& b) override {
    auto [ids, lengths] = joined_input(b);
    auto [memory, h, c] = bilstm->forward(encoder_embeddings->forward(embedding->forward(ids)), lengths);
    auto answer = decoder_embeddings->forward(embedding->forward(b.answer_in));
    auto steps = decoder->run(answer, memory, {}, ids.eq(vocab_.pad), {}, {join_directions(h), join_directions(c)});
    return pointer_nll(out, steps, ids, {}, b.answer_out, vocab_.pad, b.target_positions);
  }

  std::unique_ptr<DecoderState> start(const Batch& b, OutputPrecision output) override {
    auto s = std::make_unique<S2sState>();
    auto [ids, lengths] = joined_input(b);
    auto [memory, h, c] = bilstm->forward(encoder_embeddings->forward(embedding->forward(ids)), lengths);
    s->memory = memory;
    s->ids = ids;
    s->padding = ids.eq(vocab_.pad);
    s->rnn_state = {join_directions(h), join_directions(c)};
    s->packed_out = pack_for_decoding(out, output);
    return s;
  }

  torch::Tensor step(DecoderState& base, const torch::Tensor& previous) override {
    auto& s = static_cast<S2sState&>(base);
    return pointer_log_probs(out, decoder_step(s, previous), s.ids, {});
  }

  std::pair<torch::Tensor, torch::Tensor> step_top(DecoderState& base, const torch::Tensor& previous,
                                                   int64_t width) override {
    auto& s = static_cast<S2sState&>(base);
    return pointer_top(out, s.packed_out.get(), decoder_step(s, previous), s.ids, {}, width);
  }

 private:
  PointerStep decoder_step(S2sState& s, const torch::Tensor& previous) {
    auto x = decoder_embeddings->forward(embedding->forward(previous));
    auto st = decoder->step(x, s.memory, {}, s.padding, {}, s.rnn_state, s.rnn_output);
    s.rnn_state = st.state;
    s.rnn_output = st.output;
    return st;
  }

  // "Context:" context "Question:" question, per row, padded.
  std::pair<torch::Tensor, torch::Tensor> joined_input(const Batch& b) const {
    auto c = b.context.to(torch::kCPU), q = b.question.to(torch::kCPU);
    auto cl = b.context_lengths.accessor<int64_t, 1>(), ql = b.question_lengths.accessor<int64_t, 1>();
    const int64_t rows = c.size(0);
    const int64_t extra = static_cast<int64_t>(vocab_.context_marker.size() + vocab_.question_marker.size());
    auto lengths = torch::empty({rows}, torch::kInt64);
    int64_t longest = 1;
    for (int64_t i = 0; i < rows; ++i) {
      lengths[i] = cl[i] + ql[i] + extra;
      longest = std::max(longest, cl[i] + ql[i] + extra);
    }
    auto ids = torch::full({rows, longest}, vocab_.pad, torch::kInt64);
    auto ia = ids.accessor<int64_t, 2>();
    auto ca = c.accessor<int64_t, 2>(), qa = q.accessor<int64_t, 2>();
    for (int64_t i = 0; i < rows; ++i) {
      int64_t k = 0;
      for (int32_t t : vocab_.context_marker) ia[i][k++] = t;
      for (int64_t j = 0; j < cl[i]; ++j) ia[i][k++] = ca[i][j];
      for (int32_t t : vocab_.question_marker) ia[i][k++] = t;
      for (int64_t j = 0; j < ql[i]; ++j) ia[i][k++] = qa[i][j];
    }
    return {ids.to(b.context.device()), lengths};
  }

  Vocabulary vocab_;
  int64_t d_;
  torch::nn::Embedding embedding{nullptr};
  Feedforward encoder_embeddings{nullptr}, decoder_embeddings{nullptr};
  PackedLSTM bilstm{nullptr};
  DualPointerDecoder decoder{nullptr};
  torch::nn::Linear out{nullptr};
};

std::shared_ptr<Seq2Seq> make_mqan(const ModelOptions& o, const Vocabulary& v);

std::string part_of(const std::string& parameter_name) {
  const std::string module = parameter_name.substr(0, parameter_name.find('.'));
  if (module == "embedding") return "embeddings";
  if (module == "out") return "output";
  if (module == "decoder_embeddings" || module == "self_attentive_decoder" || module == "dual_ptr_rnn_decoder" ||
      module == "decoder")
    return "decoder";
  return "encoder";
}

std::shared_ptr<Seq2Seq> make_model(const ModelOptions& o, const Vocabulary& v) {
  if (o.type == "s2s") return std::make_shared<S2s>(o, v);
  return make_mqan(o, v);
}

}  // namespace deca::model
