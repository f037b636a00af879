#include "deca/model/layers.h"

#include "deca/kernels/attention_step.h"
#include "deca/kernels/layer_norm_rows.h"
#include "deca/model/parallel.h"

#include "on_cpu.h"
#include "recurrence.h"

#include <cmath>

namespace deca::model {

namespace F = torch::nn::functional;

namespace {

// a x b, each thread whole matrices of the batch (OpenBLAS inside on that thread alone).
torch::Tensor matmul_by_items(const torch::Tensor& a, const torch::Tensor& b) {
  auto out = torch::empty({a.size(0), a.size(1), b.size(2)}, a.options());
  const int64_t items = a.size(0);
  const int workers = static_cast<int>(std::min<int64_t>(at::get_num_threads(), items));
  run_workers(workers, [&](int w) {
    torch::NoGradGuard no_grad;  // products into `out`: autograd is BatchMatmul's
    for (int64_t i = w; i < items; i += workers) {
      auto o = out.select(0, i);
      torch::mm_out(o, a.select(0, i), b.select(0, i));
    }
  });
  return out;
}

bool by_items(const torch::Tensor& a, const torch::Tensor& b) {
  return cpu_fp32({a, b}) && at::get_num_threads() > 1 && a.size(0) > 1 && !at::in_parallel_region();
}

struct BatchMatmul : torch::autograd::Function<BatchMatmul> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& a, const torch::Tensor& b) {
    ctx->save_for_backward({a, b});
    return matmul_by_items(a, b);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list g) {
    const auto saved = ctx->get_saved_variables();
    const auto &a = saved[0], &b = saved[1];
    torch::Tensor ga, gb;
    if (ctx->needs_input_grad(0)) ga = matmul_by_items(g[0], b.transpose(1, 2));
    if (ctx->needs_input_grad(1)) gb = matmul_by_items(a.transpose(1, 2), g[0]);
    return {ga, gb};
  }
};

// LayerNorm in training on the CPU (layer_norm_rows.h): keeps the normalised
// input and two numbers per row for backward.
struct LayerNormRows : torch::autograd::Function<LayerNormRows> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& gamma, const torch::Tensor& beta, double eps) {
    const auto xc = x.contiguous();
    const int64_t d = xc.size(-1), rows = xc.numel() / d;
    auto y = torch::empty_like(xc), xhat = torch::empty_like(xc);
    auto stats = torch::empty({rows, 2}, xc.options());
    kernels::layer_norm_rows_forward(xc.data_ptr<float>(), gamma.contiguous().data_ptr<float>(),
                                     beta.contiguous().data_ptr<float>(), rows, d, static_cast<float>(eps),
                                     y.data_ptr<float>(), xhat.data_ptr<float>(), stats.data_ptr<float>());
    ctx->save_for_backward({xhat, stats, gamma});
    return y;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list g) {
    const auto saved = ctx->get_saved_variables();
    const auto &xhat = saved[0], &stats = saved[1], gamma = saved[2].contiguous();
    const auto dy = g[0].contiguous();
    const int64_t d = xhat.size(-1);
    auto dx = torch::empty_like(xhat), dgamma = torch::empty({d}, gamma.options()),
         dbeta = torch::empty({d}, gamma.options());
    kernels::layer_norm_rows_backward(dy.data_ptr<float>(), xhat.data_ptr<float>(), stats.data_ptr<float>(),
                                      gamma.data_ptr<float>(), xhat.numel() / d, d, dx.data_ptr<float>(),
                                      dgamma.data_ptr<float>(), dbeta.data_ptr<float>());
    return {dx, dgamma, dbeta, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor batch_matmul(const torch::Tensor& a, const torch::Tensor& b) {
  if (!by_items(a, b)) return torch::bmm(a, b);
  if (torch::GradMode::is_enabled() && (a.requires_grad() || b.requires_grad())) return BatchMatmul::apply(a, b);
  return matmul_by_items(a, b);
}

FeedforwardImpl::FeedforwardImpl(int64_t in, int64_t out, double p, bool relu_, bool bias) : relu(relu_) {
  linear = register_module("linear", torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias)));
  dropout = register_module("dropout", Dropout(p));
}

torch::Tensor FeedforwardImpl::forward(const torch::Tensor& x) {
  auto y = linear->forward(dropout->forward(x));
  return relu ? torch::relu(y) : y;
}

LayerNormImpl::LayerNormImpl(int64_t d, double eps_) : eps(eps_) {
  gamma = register_parameter("gamma", torch::ones({d}));
  beta = register_parameter("beta", torch::zeros({d}));
}

torch::Tensor LayerNormImpl::forward(const torch::Tensor& x) {
  const bool fused = cpu_fp32({x, gamma, beta}) && x.size(-1) > 1 && x.numel() > 0;
  if (fused && torch::GradMode::is_enabled()) return LayerNormRows::apply(x, gamma, beta, eps);
  if (fused) {
    // Inference: one pass per row (layer_norm_rows.h) for seven operators.
    const auto xc = x.contiguous();
    auto y = torch::empty_like(xc);
    const int64_t d = xc.size(-1);
    kernels::layer_norm_rows(xc.data_ptr<float>(), gamma.contiguous().data_ptr<float>(),
                             beta.contiguous().data_ptr<float>(), xc.numel() / d, d, static_cast<float>(eps),
                             y.data_ptr<float>());
    return y;
  }
  auto mean = x.mean(-1, /*keepdim=*/true);
  auto std = x.std(-1, /*unbiased=*/true, /*keepdim=*/true);
  return gamma * (x - mean) / (std + eps) + beta;
}

MultiHeadImpl::MultiHeadImpl(int64_t d_, int64_t heads_, double p, bool causal_)
    : d(d_), heads(heads_), causal(causal_) {
  wq = register_module("wq", torch::nn::Linear(torch::nn::LinearOptions(d, d).bias(false)));
  wk = register_module("wk", torch::nn::Linear(torch::nn::LinearOptions(d, d).bias(false)));
  wv = register_module("wv", torch::nn::Linear(torch::nn::LinearOptions(d, d).bias(false)));
  dropout = register_module("dropout", Dropout(p));
}

torch::Tensor MultiHeadImpl::attend(const torch::Tensor& pq, const torch::Tensor& pk, const torch::Tensor& pv,
                                    const torch::Tensor& key_padding, bool is_causal) {
  // decaNLP scales by sqrt of the full model dimension, not the head size.
  const double scale = std::sqrt(static_cast<double>(d));
  torch::Tensor mask;  // (B, Lq, Lk) additive
  const int64_t lq = pq.size(1), lk = pk.size(1);
  auto qs = pq.chunk(heads, -1), ks = pk.chunk(heads, -1), vs = pv.chunk(heads, -1);
  if (lq == 1 && !dropout->is_training() && cpu_fp32_inference({pq, pk, pv})) {
    // A decoding step: all heads in one pass (deca/kernels/attention_step.h).
    std::vector<int64_t> bounds = {0};
    for (const auto& x : qs) bounds.push_back(bounds.back() + x.size(-1));
    // Keys and values may be the filled part of a decoding cache with room
    // to grow: rows apart by more than lk * d, each row's keys contiguous.
    const bool rows_dense = pk.stride(2) == 1 && pk.stride(1) == pk.size(2) && pv.stride(2) == 1 &&
                            pv.stride(1) == pv.size(2) && pk.stride(0) == pv.stride(0);
    const auto q = pq.contiguous(), k = rows_dense ? pk : pk.contiguous(), v = rows_dense ? pv : pv.contiguous();
    const auto padding = key_padding.defined() ? key_padding.to(torch::kBool).contiguous() : torch::Tensor();
    auto out = torch::empty_like(q);
    kernels::attend_one_query(q.data_ptr<float>(), k.data_ptr<float>(), v.data_ptr<float>(),
                              padding.defined() ? padding.data_ptr<bool>() : nullptr, q.size(0), lk, k.stride(0), d,
                              bounds, static_cast<float>(scale), out.data_ptr<float>());
    return out;
  }
  std::vector<torch::Tensor> outs;
  outs.reserve(qs.size());
  if (!torch::GradMode::is_enabled() && !dropout->is_training() && !(is_causal && lq > 1)) {
    // Inference over whole sequences (decoding's encoder): the batch in slices
    // of rows whose scores take a few MB, not (rows, Lq, Lk) per head (a
    // 20,000-token batch of 800-piece contexts: 64 MB each, several alive at
    // once). Each row's products are the same either way.
    const int64_t rows = pq.size(0), slice = std::max<int64_t>(1, (int64_t{1} << 20) / std::max<int64_t>(1, lq * lk));
    for (size_t h = 0; h < qs.size(); ++h) {
      std::vector<torch::Tensor> parts;
      for (int64_t b = 0; b < rows; b += slice) {
        const int64_t n = std::min(slice, rows - b);
        auto scores = torch::matmul(qs[h].narrow(0, b, n), ks[h].narrow(0, b, n).transpose(1, 2));
        if (key_padding.defined()) scores.masked_fill_(key_padding.narrow(0, b, n).unsqueeze(1), -kInf);
        parts.push_back(torch::matmul(torch::softmax(scores.div_(scale), -1), vs[h].narrow(0, b, n)));
      }
      outs.push_back(parts.size() == 1 ? parts.front() : torch::cat(parts, 0));
    }
    return torch::cat(outs, -1);
  }
  for (size_t h = 0; h < qs.size(); ++h) {
    auto scores = batch_matmul(qs[h], ks[h].transpose(1, 2));
    if (is_causal && lq > 1) {
      auto tri = torch::ones({lq, lk}, scores.options()).triu(1 + (lk - lq)) * kInf;
      scores = scores - tri.unsqueeze(0);
    }
    if (key_padding.defined()) scores = scores.masked_fill(key_padding.unsqueeze(1), -kInf);
    auto w = dropout->forward(torch::softmax(scores / scale, -1));
    outs.push_back(batch_matmul(w, vs[h]));
  }
  return torch::cat(outs, -1);
}

torch::Tensor MultiHeadImpl::forward(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                     const torch::Tensor& key_padding) {
  return attend(wq->forward(q), wk->forward(k), wv->forward(v), key_padding, causal);
}

LinearReLUImpl::LinearReLUImpl(int64_t d, int64_t hidden, double p) {
  feedforward = register_module("feedforward", Feedforward(d, hidden, p, /*relu=*/true));
  linear = register_module("linear", torch::nn::Linear(hidden, d));
}

torch::Tensor LinearReLUImpl::forward(const torch::Tensor& x) { return linear->forward(feedforward->forward(x)); }

TransformerEncoderLayerImpl::TransformerEncoderLayerImpl(int64_t d, int64_t heads, int64_t hidden, double p,
                                                         double p_ff) {
  selfattn = register_module("selfattn", MultiHead(d, heads, p, false));
  selfattn_norm = register_module("selfattn_norm", LayerNorm(d));
  feedforward = register_module("feedforward", LinearReLU(d, hidden, p_ff));
  feedforward_norm = register_module("feedforward_norm", LayerNorm(d));
  dropout = register_module("dropout", Dropout(p));
}

torch::Tensor TransformerEncoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& padding) {
  auto y = selfattn_norm->forward(x + dropout->forward(selfattn->forward(x, x, x, padding)));
  return feedforward_norm->forward(y + dropout->forward(feedforward->forward(y)));
}

TransformerEncoderImpl::TransformerEncoderImpl(int64_t d, int64_t heads, int64_t hidden, int64_t n, double p,
                                               double p_ff) {
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < n; ++i) layers->push_back(TransformerEncoderLayer(d, heads, hidden, p, p_ff));
  dropout = register_module("dropout", Dropout(p));
}

std::vector<torch::Tensor> TransformerEncoderImpl::forward(const torch::Tensor& x, const torch::Tensor& padding) {
  std::vector<torch::Tensor> out{dropout->forward(x)};
  for (const auto& layer : *layers) out.push_back(layer->as<TransformerEncoderLayer>()->forward(out.back(), padding));
  return out;
}

TransformerDecoderLayerImpl::TransformerDecoderLayerImpl(int64_t d, int64_t heads, int64_t hidden, double p,
                                                         double p_ff) {
  selfattn = register_module("selfattn", MultiHead(d, heads, p, true));
  selfattn_norm = register_module("selfattn_norm", LayerNorm(d));
  attention = register_module("attention", MultiHead(d, heads, p, false));
  attention_norm = register_module("attention_norm", LayerNorm(d));
  feedforward = register_module("feedforward", LinearReLU(d, hidden, p_ff));
  feedforward_norm = register_module("feedforward_norm", LayerNorm(d));
  dropout = register_module("dropout", Dropout(p));
}

TransformerDecoderImpl::TransformerDecoderImpl(int64_t d_, int64_t heads, int64_t hidden, int64_t n, double p,
                                               double p_ff)
    : d(d_) {
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < n; ++i) layers->push_back(TransformerDecoderLayer(d, heads, hidden, p, p_ff));
  dropout = register_module("dropout", Dropout(p));
}

torch::Tensor TransformerDecoderImpl::forward(const torch::Tensor& x, const std::vector<torch::Tensor>& encoding,
                                              const torch::Tensor& context_padding,
                                              const torch::Tensor& answer_padding) {
  auto h = dropout->forward(x + positional_encodings(x.size(1), d, 0, x.options()).unsqueeze(0));
  for (size_t l = 0; l < layers->size(); ++l) {
    auto layer = layers[l]->as<TransformerDecoderLayer>();
    h = layer->residual(layer->selfattn_norm, h, layer->selfattn->forward(h, h, h, answer_padding));
    const auto& enc = encoding[l + 1];
    h = layer->residual(layer->attention_norm, h, layer->attention->forward(h, enc, enc, context_padding));
    h = layer->residual(layer->feedforward_norm, h, layer->feedforward->forward(h));
  }
  return h;
}

torch::Tensor join_directions(const torch::Tensor& h) {
  return h.view({h.size(0) / 2, 2, h.size(1), h.size(2)})
      .transpose(1, 2)
      .contiguous()
      .view({h.size(0) / 2, h.size(1), h.size(2) * 2});
}

torch::Tensor positional_encodings(int64_t length, int64_t d, int64_t offset, const torch::TensorOptions& options) {
  auto pos = torch::arange(offset, offset + length, torch::TensorOptions().dtype(torch::kFloat64)).unsqueeze(1);
  auto channel = torch::arange(0, d, torch::TensorOptions().dtype(torch::kFloat64));
  // even c: sin(pos / 10000^(c/d)); odd c: cos(pos / 10000^((c-1)/d))
  auto even = channel - torch::remainder(channel, 2);
  auto angle = pos / torch::pow(10000.0, even / static_cast<double>(d));
  auto odd = torch::remainder(channel, 2).to(torch::kBool);
  auto pe = torch::where(odd, torch::cos(angle), torch::sin(angle));
  return pe.to(options.dtype()).to(options.device());
}

PackedLSTMImpl::PackedLSTMImpl(int64_t in, int64_t out, bool bidirectional_, int64_t layers_, double p)
    : layers(layers_), bidirectional(bidirectional_), dropout(layers_ > 1 ? p : 0.0) {
  const int64_t hidden = bidirectional ? out / 2 : out;
  rnn = register_module("rnn", torch::nn::LSTM(torch::nn::LSTMOptions(in, hidden)
                                                   .num_layers(layers)
                                                   .dropout(dropout)
                                                   .bidirectional(bidirectional)
                                                   .batch_first(true)));
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> PackedLSTMImpl::forward_packed(const torch::Tensor& x,
                                                                                       const torch::Tensor& lengths) {
  auto packed = torch::nn::utils::rnn::pack_padded_sequence(x, lengths.to(torch::kCPU), /*batch_first=*/true,
                                                            /*enforce_sorted=*/false);
  auto result = rnn->forward_with_packed_input(packed);
  auto unpacked = torch::nn::utils::rnn::pad_packed_sequence(std::get<0>(result), /*batch_first=*/true, 0.0, x.size(1));
  const auto& state = std::get<1>(result);
  return {std::get<0>(unpacked), std::get<0>(state), std::get<1>(state)};
}

namespace {

// The recurrence of one direction of one layer over its input gates (B, L, 4h)
// as seven operators per step, where the fused one (recurrence.h) does not
// apply. Returns the hidden and cell states of every step.
std::pair<torch::Tensor, torch::Tensor> unfused_recurrence(const torch::Tensor& gates_x, const torch::Tensor& w_hh) {
  const int64_t b = gates_x.size(0), hidden = w_hh.size(1);
  auto steps = gates_x.unbind(1);
  auto h = torch::zeros({b, hidden}, gates_x.options()), c = torch::zeros({b, hidden}, gates_x.options());
  const auto w_hh_t = w_hh.t();
  std::vector<torch::Tensor> hs, cs;
  hs.reserve(steps.size());
  cs.reserve(steps.size());
  for (const auto& step : steps) {
    auto gates = torch::addmm(step, h, w_hh_t);  // i, f, g, o
    auto sig = torch::sigmoid(gates);
    auto g = torch::tanh(gates.narrow(1, 2 * hidden, hidden));
    c = torch::addcmul(sig.narrow(1, hidden, hidden) * c, sig.narrow(1, 0, hidden), g);
    h = sig.narrow(1, 3 * hidden, hidden) * torch::tanh(c);
    hs.push_back(h);
    cs.push_back(c);
  }
  return {torch::stack(hs, 1), torch::stack(cs, 1)};
}

}  // namespace

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> PackedLSTMImpl::forward(const torch::Tensor& x,
                                                                                const torch::Tensor& lengths) {
  if (x.is_cuda()) return forward_packed(x, lengths);
  const int64_t b = x.size(0), len = x.size(1);
  auto positions = torch::arange(len, torch::kInt64).unsqueeze(0).expand({b, len});
  auto lens = lengths.to(torch::kInt64).unsqueeze(1);
  auto mask = positions < lens;
  auto mask_f = mask.unsqueeze(2).to(x.dtype());
  // Reversal within each sequence's length (padding stays where it is): its own inverse.
  auto reverse_index = torch::where(mask, lens - 1 - positions, positions);
  auto reverse = [&](const torch::Tensor& t) {
    return t.gather(1, reverse_index.unsqueeze(2).expand({b, len, t.size(2)}));
  };
  auto params = rnn->all_weights();  // per layer and direction: w_ih, w_hh, b_ih, b_hh
  torch::Tensor input = x;
  std::vector<torch::Tensor> hs, cs;
  const int64_t dirs = bidirectional ? 2 : 1;
  // Where each direction's final state is: the last token, and for the
  // backward direction (which reads each sequence from its end) the first.
  const auto at_last = (lens - 1).view({b, 1, 1}), at_first = torch::zeros_like(at_last);
  for (int64_t l = 0; l < layers; ++l) {
    if (l > 0 && dropout > 0 && is_training()) input = model::dropout(input, dropout, true);
    // Per direction: the input gates x W_ih^T + b_ih + b_hh of all steps in
    // one product, then the recurrence, which runs on past a sequence's end
    // (those outputs are zeroed).
    auto gates = [&](int64_t d, const torch::Tensor& in) {
      const size_t k = static_cast<size_t>((l * dirs + d) * 4);
      return torch::addmm(params[k + 2] + params[k + 3], in.reshape({-1, in.size(2)}), params[k].t())
          .view({b, len, 4 * params[k + 1].size(1)});
    };
    auto w_hh = [&](int64_t d) { return params[static_cast<size_t>((l * dirs + d) * 4 + 1)]; };
    // Per direction, the hidden and cell states of every position (the
    // backward direction's by the position it read last).
    std::vector<std::pair<torch::Tensor, torch::Tensor>> states;
    auto first = gates(0, input);  // float32 on the CPU unless autocast made it bf16
    const bool fused = fused_recurrence_applies(first, w_hh(0));
    if (fused && torch::GradMode::is_enabled()) {
      // The directions side by side, a thread each, both over the input as it is.
      std::vector<RecurrenceRun> runs{{std::move(first), w_hh(0), {}}};
      if (dirs == 2) runs.push_back({gates(1, input), w_hh(1), reverse_index});
      states = lstm_recurrences(runs);
    } else {
      // Inference, or not float32 on the CPU: one direction at a time, so that
      // one direction's input gates are held at a time.
      for (int64_t d = 0; d < dirs; ++d) {
        if (fused) {
          states.push_back(lstm_recurrences({{d == 0 ? std::move(first) : gates(d, input), w_hh(d),
                                              d == 0 ? torch::Tensor() : reverse_index}})
                               .front());
        } else if (d == 0) {
          states.push_back(unfused_recurrence(first, w_hh(0)));
        } else {
          const auto [out, cells] = unfused_recurrence(gates(d, reverse(input)), w_hh(d));
          states.push_back({reverse(out), reverse(cells)});
        }
      }
    }
    std::vector<torch::Tensor> outs;
    for (int64_t d = 0; d < dirs; ++d) {
      const auto& [out, cells] = states[static_cast<size_t>(d)];
      const auto last = (d == 0 ? at_last : at_first).expand({b, 1, out.size(2)});
      hs.push_back(out.gather(1, last).squeeze(1));
      cs.push_back(cells.gather(1, last).squeeze(1));
      outs.push_back(out * mask_f);
    }
    input = dirs == 2 ? torch::cat(outs, 2) : outs[0];
  }
  return {input, torch::stack(hs), torch::stack(cs)};
}

DecoderAttentionImpl::DecoderAttentionImpl(int64_t d) {
  linear_out = register_module("linear_out", torch::nn::Linear(torch::nn::LinearOptions(2 * d, d).bias(false)));
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> DecoderAttentionImpl::forward(const torch::Tensor& h,
                                                                                      const torch::Tensor& memory,
                                                                                      const torch::Tensor& padding) {
  if (cpu_fp32_inference({h, memory}) && h.dim() == 2) {
    // A decoding step: one pass per row (attention_step.h) for two batched products.
    const auto hc = h.contiguous(), mc = memory.contiguous();
    const auto pc = padding.defined() ? padding.to(torch::kBool).contiguous() : torch::Tensor();
    const int64_t rows = mc.size(0), len = mc.size(1), d = mc.size(2);
    auto attention = torch::empty({rows, len}, hc.options());
    auto alignment = torch::empty({rows, d}, hc.options());
    kernels::attend_memory(hc.data_ptr<float>(), mc.data_ptr<float>(), pc.defined() ? pc.data_ptr<bool>() : nullptr,
                           rows, len, d, static_cast<float>(kEpsilon), attention.data_ptr<float>(),
                           alignment.data_ptr<float>());
    auto output = torch::tanh(linear_out->forward(torch::cat({h, alignment}, 1)));
    return {output, attention, alignment};
  }
  auto scores = torch::bmm(memory, h.unsqueeze(2)).squeeze(2);
  scores = scores.masked_fill(padding, -std::numeric_limits<float>::infinity());
  auto attention = torch::softmax(scores, -1) + kEpsilon;
  auto alignment = torch::bmm(attention.unsqueeze(1), memory).squeeze(1);
  auto output = torch::tanh(linear_out->forward(torch::cat({h, alignment}, 1)));
  return {output, attention, alignment};
}

LSTMDecoderImpl::LSTMDecoderImpl(int64_t n, int64_t in, int64_t hidden, double p) {
  cells = register_module("cells", torch::nn::ModuleList());
  for (int64_t i = 0; i < n; ++i) cells->push_back(torch::nn::LSTMCell(i == 0 ? in : hidden, hidden));
  dropout = register_module("dropout", Dropout(p));
}

std::pair<torch::Tensor, std::pair<torch::Tensor, torch::Tensor>> LSTMDecoderImpl::forward(
    const torch::Tensor& x, const std::pair<torch::Tensor, torch::Tensor>& state) {
  torch::Tensor input = x;
  std::vector<torch::Tensor> hs, cs;
  for (size_t i = 0; i < cells->size(); ++i) {
    input = dropout->forward(input);
    auto hc = cells[i]->as<torch::nn::LSTMCell>()->forward(
        input, std::make_tuple(state.first[static_cast<int64_t>(i)], state.second[static_cast<int64_t>(i)]));
    input = std::get<0>(hc);
    hs.push_back(std::get<0>(hc));
    cs.push_back(std::get<1>(hc));
  }
  return {input, {torch::stack(hs), torch::stack(cs)}};
}

}  // namespace deca::model
