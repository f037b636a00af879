// MQAN (docs/design.md, "MQAN as built") on trainable SentencePiece embeddings.
// Training and inference agree (the reference lets them disagree):
// no sqrt(d) embedding scale, decoder layer l attends to the encoder's list
// element l + 1 and context padding is masked, in both.
#include "deca/model/layers.h"
#include "deca/model/model.h"
#include "pointer.h"

namespace deca::model {
namespace {

struct Encoded {
  std::vector<torch::Tensor> self_attended_context;  // [input, layer 1, ..., layer L]
  torch::Tensor final_context, final_question;
  torch::Tensor context_padding, question_padding;
  std::pair<torch::Tensor, torch::Tensor> rnn_state;  // (layers, B, d)
};

struct MqanState : DecoderState {
  Encoded enc;
  torch::Tensor context_ids, question_ids;
  std::vector<torch::Tensor> cross_k, cross_v;
  // The decoder self-attention's keys and values of steps 0 .. t - 1, in
  // caches (rows, capacity, d) that double when full: appending a step is
  // one copy of its row, not of all earlier steps.
  std::vector<torch::Tensor> self_k, self_v;
  std::pair<torch::Tensor, torch::Tensor> rnn_state;
  torch::Tensor rnn_output;
  std::shared_ptr<const kernels::PackedRows> packed_out;  // the output layer for CPU decoding, or null
  int64_t t = 0;

  void select(const torch::Tensor& index) override {
    auto sel = [&](torch::Tensor& x) {
      if (x.defined()) x = x.index_select(0, index);
    };
    sel(enc.final_context);
    sel(enc.final_question);
    sel(enc.context_padding);
    sel(enc.question_padding);
    sel(context_ids);
    sel(question_ids);
    for (auto* v : {&cross_k, &cross_v})
      for (auto& x : *v) sel(x);
    reorder(index);
  }

  void reorder(const torch::Tensor& index) override {
    for (auto* v : {&self_k, &self_v})
      for (auto& x : *v)
        if (x.defined()) x = x.index_select(0, index);
    rnn_state.first = rnn_state.first.index_select(1, index);
    rnn_state.second = rnn_state.second.index_select(1, index);
    if (rnn_output.defined()) rnn_output = rnn_output.index_select(0, index);
  }
};

// Writes x (rows, 1, d) at step t of `cache` (see MqanState::self_k), grown
// first if full; returns steps 0 .. t. With gradients (stepwise training
// checks) the cache is concatenated instead: writing into it in place would
// change what earlier steps saved for backward.
torch::Tensor append(torch::Tensor& cache, const torch::Tensor& x, int64_t t) {
  if (torch::GradMode::is_enabled()) return cache = cache.defined() ? torch::cat({cache, x}, 1) : x;
  if (!cache.defined() || cache.size(1) == t) {
    auto grown = torch::empty({x.size(0), std::max<int64_t>(8, 2 * t), x.size(2)}, x.options());
    if (t > 0) grown.narrow(1, 0, t).copy_(cache);
    cache = grown;
  }
  cache.narrow(1, t, 1).copy_(x);
  return cache.narrow(1, 0, t + 1);
}

}  // namespace

class Mqan : public Seq2Seq {
 public:
  Mqan(const ModelOptions& o, const Vocabulary& v) : opt_(o), vocab_(v) {
    const int64_t d = o.dimension;
    // Sparse gradients: the rows a batch looks up, not a dense table (Adam
    // updates every row all the same, deca/train/adam.h).
    embedding = register_module(
        "embedding", torch::nn::Embedding(torch::nn::EmbeddingOptions(v.size, o.embedding_dim).sparse(true)));
    embedding->weight.detach().mul_(o.embedding_init_std);  // drawn N(0, 1): N(0, std^2) from the same draws
    encoder_embeddings = register_module("encoder_embeddings", Feedforward(o.embedding_dim, d, o.dropout));
    decoder_embeddings = register_module("decoder_embeddings", Feedforward(o.embedding_dim, d, o.dropout));
    bilstm_before_coattention = register_module("bilstm_before_coattention", PackedLSTM(d, d, true, 1, 0.0));
    coattention_proj = register_module("coattention_proj", Feedforward(d, d, 0.0));
    if (o.coattention_init == "identity") {  // after the default draw, so every other parameter is drawn as before
      torch::NoGradGuard no_grad;
      coattention_proj->linear->weight.copy_(torch::eye(d));
      coattention_proj->linear->bias.zero_();
    }
    coattention_sentinel = register_module("coattention_sentinel", torch::nn::Embedding(2, d));
    coattention_dropout = register_module("coattention_dropout", Dropout(o.coattention_dropout));
    const int64_t summary = 4 * d;
    context_bilstm_after_coattention =
        register_module("context_bilstm_after_coattention", PackedLSTM(summary, d, true, o.rnn_layers, o.dropout));
    self_attentive_encoder_context = register_module(
        "self_attentive_encoder_context", TransformerEncoder(d, o.transformer_heads, o.transformer_hidden,
                                                             o.transformer_layers, o.dropout, o.feedforward_dropout));
    bilstm_context = register_module("bilstm_context", PackedLSTM(d, d, true, o.rnn_layers, o.dropout));
    question_bilstm_after_coattention =
        register_module("question_bilstm_after_coattention", PackedLSTM(summary, d, true, o.rnn_layers, o.dropout));
    self_attentive_encoder_question = register_module(
        "self_attentive_encoder_question", TransformerEncoder(d, o.transformer_heads, o.transformer_hidden,
                                                              o.transformer_layers, o.dropout, o.feedforward_dropout));
    bilstm_question = register_module("bilstm_question", PackedLSTM(d, d, true, o.rnn_layers, o.dropout));
    self_attentive_decoder = register_module(
        "self_attentive_decoder", TransformerDecoder(d, o.transformer_heads, o.transformer_hidden, o.transformer_layers,
                                                     o.dropout, o.feedforward_dropout));
    dual_ptr_rnn_decoder =
        register_module("dual_ptr_rnn_decoder", DualPointerDecoder(d, o.rnn_layers, o.dropout, o.feedforward_dropout));
    out = register_module("out", torch::nn::Linear(d, v.size));
  }

  torch::Tensor loss(const Batch& b) override {
    // One lookup for context, question and answer: one sparse gradient.
    auto looked_up = embedding->forward(torch::cat({b.context.flatten(), b.question.flatten(), b.answer_in.flatten()}))
                         .split({b.context.numel(), b.question.numel(), b.answer_in.numel()});
    auto as_batch = [](const torch::Tensor& e, const torch::Tensor& ids) {
      return e.view({ids.size(0), ids.size(1), -1});
    };
    const Encoded enc = encode(b, as_batch(looked_up[0], b.context), as_batch(looked_up[1], b.question));
    const auto answer_padding = b.answer_in.eq(vocab_.pad);
    auto answer_embedded = decoder_embeddings->forward(as_batch(looked_up[2], b.answer_in));
    auto decoded = self_attentive_decoder->forward(answer_embedded, enc.self_attended_context, enc.context_padding,
                                                   answer_padding);
    auto steps = dual_ptr_rnn_decoder->run(decoded, enc.final_context, enc.final_question, enc.context_padding,
                                           enc.question_padding, enc.rnn_state);
    return pointer_nll(out, steps, b.context, b.question, b.answer_out, vocab_.pad, b.target_positions);
  }

  std::unique_ptr<DecoderState> start(const Batch& b, OutputPrecision output) override {
    auto s = std::make_unique<MqanState>();
    s->enc = encode(b, embedding->forward(b.context), embedding->forward(b.question));
    s->context_ids = b.context;
    s->question_ids = b.question;
    for (size_t l = 0; l < self_attentive_decoder->layers->size(); ++l) {
      auto layer = self_attentive_decoder->layers[l]->as<TransformerDecoderLayer>();
      const auto& memory = s->enc.self_attended_context[l + 1];
      s->cross_k.push_back(layer->attention->wk->forward(memory));
      s->cross_v.push_back(layer->attention->wv->forward(memory));
      s->self_k.emplace_back();
      s->self_v.emplace_back();
    }
    s->rnn_state = s->enc.rnn_state;
    s->enc.self_attended_context.clear();  // in cross_k and cross_v now
    s->packed_out = pack_for_decoding(out, output);
    return s;
  }

  torch::Tensor step(DecoderState& base, const torch::Tensor& previous) override {
    auto& s = static_cast<MqanState&>(base);
    return pointer_log_probs(out, decoder_step(s, previous), s.context_ids, s.question_ids);
  }

  std::pair<torch::Tensor, torch::Tensor> step_top(DecoderState& base, const torch::Tensor& previous,
                                                   int64_t width) override {
    auto& s = static_cast<MqanState&>(base);
    return pointer_top(out, s.packed_out.get(), decoder_step(s, previous), s.context_ids, s.question_ids, width);
  }

 private:
  // One step of the decoders, to the pointer's inputs.
  PointerStep decoder_step(MqanState& s, const torch::Tensor& previous) {
    const int64_t d = opt_.dimension;
    auto x = decoder_embeddings->forward(embedding->forward(previous.unsqueeze(1)));
    x = self_attentive_decoder->dropout->forward(x + positional_encodings(1, d, s.t, x.options()).unsqueeze(0));
    for (size_t l = 0; l < self_attentive_decoder->layers->size(); ++l) {
      auto layer = self_attentive_decoder->layers[l]->as<TransformerDecoderLayer>();
      auto& sa = layer->selfattn;
      auto k = sa->wk->forward(x), v = sa->wv->forward(x);
      const auto keys = append(s.self_k[l], k, s.t), values = append(s.self_v[l], v, s.t);
      x = layer->residual(layer->selfattn_norm, x, sa->attend(sa->wq->forward(x), keys, values, {}, false));
      auto& ca = layer->attention;
      x = layer->residual(layer->attention_norm, x,
                          ca->attend(ca->wq->forward(x), s.cross_k[l], s.cross_v[l], s.enc.context_padding, false));
      x = layer->residual(layer->feedforward_norm, x, layer->feedforward->forward(x));
    }
    ++s.t;
    auto st = dual_ptr_rnn_decoder->step(x.squeeze(1), s.enc.final_context, s.enc.final_question, s.enc.context_padding,
                                         s.enc.question_padding, s.rnn_state, s.rnn_output);
    s.rnn_state = st.state;
    s.rnn_output = st.output;
    return st;
  }

  // The batch's context and question from their looked-up embeddings.
  Encoded encode(const Batch& b, const torch::Tensor& context_embedded, const torch::Tensor& question_embedded) {
    Encoded e;
    auto c_emb = encoder_embeddings->forward(context_embedded);
    auto q_emb = encoder_embeddings->forward(question_embedded);
    auto c_enc = std::get<0>(bilstm_before_coattention->forward(c_emb, b.context_lengths));
    auto q_enc = std::get<0>(bilstm_before_coattention->forward(q_emb, b.question_lengths));
    e.context_padding = b.context.eq(vocab_.pad);
    e.question_padding = b.question.eq(vocab_.pad);
    auto [c_co, q_co] = coattention(c_enc, q_enc, e.context_padding, e.question_padding);
    auto c_cond =
        std::get<0>(context_bilstm_after_coattention->forward(torch::cat({c_co, c_enc, c_emb}, -1), b.context_lengths));
    e.self_attended_context = self_attentive_encoder_context->forward(c_cond, e.context_padding);
    auto c_fin = bilstm_context->forward(e.self_attended_context.back(), b.context_lengths);
    e.final_context = std::get<0>(c_fin);
    e.rnn_state = {join_directions(std::get<1>(c_fin)), join_directions(std::get<2>(c_fin))};
    auto q_cond = std::get<0>(
        question_bilstm_after_coattention->forward(torch::cat({q_co, q_enc, q_emb}, -1), b.question_lengths));
    auto sa_q = self_attentive_encoder_question->forward(q_cond, e.question_padding);
    e.final_question = std::get<0>(bilstm_question->forward(sa_q.back(), b.question_lengths));
    return e;
  }

  // Coattention with sentinels (decaNLP's CoattentiveLayer).
  std::pair<torch::Tensor, torch::Tensor> coattention(const torch::Tensor& context, const torch::Tensor& question,
                                                      const torch::Tensor& cpad, const torch::Tensor& qpad) {
    const int64_t b = context.size(0);
    auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(context.device());
    auto no = torch::zeros({b, 1}, torch::TensorOptions().dtype(torch::kBool).device(context.device()));
    auto cmask = torch::cat({no, cpad}, 1), qmask = torch::cat({no, qpad}, 1);
    auto c = torch::cat(
        {coattention_sentinel->forward(torch::zeros({b, 1}, i64)), coattention_dropout->forward(context)}, 1);
    auto q = torch::cat({coattention_sentinel->forward(torch::ones({b, 1}, i64)), question}, 1);
    q = torch::tanh(coattention_proj->forward(q));
    auto affinity = batch_matmul(c, q.transpose(1, 2));  // (B, m+1, n+1)
    // Over context positions for every question position, and vice versa.
    auto alpha = torch::softmax(affinity.masked_fill(cmask.unsqueeze(2), -kInf), 1);
    auto beta = torch::softmax(affinity.masked_fill(qmask.unsqueeze(1), -kInf), 2);
    auto summary_c = batch_matmul(alpha.transpose(1, 2), c);        // (B, n+1, d)
    auto summary_q = batch_matmul(beta, q);                         // (B, m+1, d)
    auto coatt_c = batch_matmul(beta, summary_c);                   // (B, m+1, d)
    auto coatt_q = batch_matmul(alpha.transpose(1, 2), summary_q);  // (B, n+1, d)
    using torch::indexing::Slice;
    return {torch::cat({coatt_c, summary_q}, 2).index({Slice(), Slice(1)}),
            torch::cat({coatt_q, summary_c}, 2).index({Slice(), Slice(1)})};
  }

  ModelOptions opt_;
  Vocabulary vocab_;
  torch::nn::Embedding embedding{nullptr};
  Feedforward encoder_embeddings{nullptr}, decoder_embeddings{nullptr};
  PackedLSTM bilstm_before_coattention{nullptr};
  Feedforward coattention_proj{nullptr};
  torch::nn::Embedding coattention_sentinel{nullptr};
  Dropout coattention_dropout{nullptr};
  PackedLSTM context_bilstm_after_coattention{nullptr}, bilstm_context{nullptr};
  PackedLSTM question_bilstm_after_coattention{nullptr}, bilstm_question{nullptr};
  TransformerEncoder self_attentive_encoder_context{nullptr}, self_attentive_encoder_question{nullptr};
  TransformerDecoder self_attentive_decoder{nullptr};
  DualPointerDecoder dual_ptr_rnn_decoder{nullptr};
  torch::nn::Linear out{nullptr};
};

std::shared_ptr<Seq2Seq> make_mqan(const ModelOptions& o, const Vocabulary& v) { return std::make_shared<Mqan>(o, v); }

}  // namespace deca::model
