#include "pointer.h"

#include "on_cpu.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "deca/kernels/parallel.h"
#include "deca/model/precision.h"

namespace deca::model {

DualPointerDecoderImpl::DualPointerDecoderImpl(int64_t d_, int64_t layers, double p, double p_switch, bool dual_)
    : d(d_), dual(dual_) {
  rnn = register_module("rnn", LSTMDecoder(layers, 2 * d, d, p));
  context_attn = register_module("context_attn", DecoderAttention(d));
  vocab_pointer_switch = register_module("vocab_pointer_switch", Feedforward(4 * d, 1, p_switch));
  if (dual) {
    question_attn = register_module("question_attn", DecoderAttention(d));
    context_question_switch = register_module("context_question_switch", Feedforward(4 * d, 1, p_switch));
  }
  dropout = register_module("dropout", Dropout(p));
}

PointerStep DualPointerDecoderImpl::step(const torch::Tensor& input, const torch::Tensor& context,
                                         const torch::Tensor& question, const torch::Tensor& context_padding,
                                         const torch::Tensor& question_padding,
                                         const std::pair<torch::Tensor, torch::Tensor>& state,
                                         const torch::Tensor& previous_output) {
  PointerStep s;
  auto fed = previous_output.defined() ? previous_output : torch::zeros({input.size(0), d}, input.options());
  auto x = torch::cat({input, dropout->forward(fed)}, 1);
  auto [h, new_state] = rnn->forward(x, state);
  s.state = new_state;
  auto [c_out, alpha, c_align] = context_attn->forward(h, context, context_padding);
  s.context_attention = alpha;
  s.gamma = torch::sigmoid(vocab_pointer_switch->forward(torch::cat({h, c_out, x}, -1)));
  if (dual) {
    auto [q_out, beta, q_align] = question_attn->forward(h, question, question_padding);
    s.question_attention = beta;
    s.lambda = torch::sigmoid(context_question_switch->forward(torch::cat({h, q_out, x}, -1)));
  }
  s.output = dropout->forward(c_out);
  return s;
}

PointerSteps DualPointerDecoderImpl::run(const torch::Tensor& inputs, const torch::Tensor& context,
                                         const torch::Tensor& question, const torch::Tensor& context_padding,
                                         const torch::Tensor& question_padding,
                                         std::pair<torch::Tensor, torch::Tensor> state) {
  std::vector<torch::Tensor> outs, alphas, betas, gammas, lambdas;
  torch::Tensor output;
  // unbind: one backward node for all steps (select's backward would fill a
  // gradient of the whole input at every step).
  for (const auto& input : inputs.unbind(1)) {
    auto s = step(input, context, question, context_padding, question_padding, state, output);
    state = s.state;
    output = s.output;
    outs.push_back(s.output);
    alphas.push_back(s.context_attention);
    gammas.push_back(s.gamma);
    if (dual) {
      betas.push_back(s.question_attention);
      lambdas.push_back(s.lambda);
    }
  }
  PointerSteps r;
  r.output = torch::stack(outs, 1);
  r.context_attention = torch::stack(alphas, 1);
  r.gamma = torch::stack(gammas, 1);
  if (dual) {
    r.question_attention = torch::stack(betas, 1);
    r.lambda = torch::stack(lambdas, 1);
  }
  return r;
}

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The output layer's log-normaliser and target logit of N rows, (N) each,
// in fp32: logsumexp(h W^T + b) and (h W^T + b)[target]. The (N, V) logits
// exist a chunk of rows at a time, in forward and again in backward (recomputed
// there, unless they take a few MB), never whole: at decaNLP's 50,000 outputs
// and 9,000-token batches they and their gradients took over a gigabyte.
// Products run in `compute` (bfloat16 when the forward pass is autocast), sums
// and gradients in fp32.
struct OutputNormaliser : torch::autograd::Function<OutputNormaliser> {
  static torch::Tensor logits(const torch::Tensor& h, const torch::Tensor& w, const torch::Tensor& b) {
    return torch::addmm(b, h, w.t()).to(torch::kFloat);
  }
  static constexpr int64_t kept_logits = int64_t{1} << 22;  // at most this many, on any device
  static int64_t rows_per_chunk(const torch::Tensor& w) {
    const int64_t elements = w.is_cuda() ? (int64_t{1} << 27) : (int64_t{1} << 22);
    return std::max<int64_t>(1, elements / w.size(0));
  }

  static variable_list forward(AutogradContext* ctx, const torch::Tensor& h, const torch::Tensor& weight,
                               const torch::Tensor& bias, const torch::Tensor& targets, int64_t compute) {
    const auto dtype = static_cast<torch::ScalarType>(compute);
    const auto hc = h.to(dtype), w = weight.to(dtype), b = bias.to(dtype);
    const int64_t n = h.size(0), step = rows_per_chunk(w);
    auto log_norm = torch::empty({n}, h.options().dtype(torch::kFloat));
    auto target_logit = torch::empty({n}, h.options().dtype(torch::kFloat));
    torch::Tensor z;
    for (int64_t from = 0; from < n; from += step) {
      const int64_t rows = std::min(step, n - from);
      z = logits(hc.narrow(0, from, rows), w, b);
      log_norm.narrow(0, from, rows).copy_(torch::logsumexp(z, 1));
      target_logit.narrow(0, from, rows).copy_(z.gather(1, targets.narrow(0, from, rows).unsqueeze(1)).squeeze(1));
    }
    // Logits of a few MB are kept for backward rather than recomputed there
    // (short answers: a tenth of SQuAD's step at 2,000 tokens is this layer).
    const bool keep = n * weight.size(0) <= kept_logits;
    // Saved variables, not saved_data: those are freed after backward, and an
    // output kept in saved_data would hold its own graph alive.
    ctx->save_for_backward({h, weight, bias, targets, log_norm, keep ? z : torch::Tensor()});
    ctx->saved_data["compute"] = compute;
    return {log_norm, target_logit};
  }

  // d/dz_v = softmax(z)_v * g_norm + [v = target] * g_target, per row.
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &h = saved[0], &weight = saved[1], &bias = saved[2], &targets = saved[3], &log_norm = saved[4],
               &kept = saved[5];
    const auto dtype = static_cast<torch::ScalarType>(ctx->saved_data["compute"].toInt());
    const auto hc = h.to(dtype), w = weight.to(dtype), b = bias.to(dtype);
    const auto fp32 = log_norm.options();
    const auto g_norm = grads[0].defined() ? grads[0] : torch::zeros_like(log_norm);
    const auto g_target = grads[1].defined() ? grads[1] : torch::zeros_like(log_norm);
    const bool want_h = ctx->needs_input_grad(0), want_w = ctx->needs_input_grad(1), want_b = ctx->needs_input_grad(2);
    const int64_t n = h.size(0), step = rows_per_chunk(w);
    torch::Tensor d_h = want_h ? torch::empty({n, h.size(1)}, fp32) : torch::Tensor();
    torch::Tensor d_w;  // the first chunk's product, then accumulated in place (no table-sized zeros or temporaries)
    torch::Tensor d_b = want_b ? torch::zeros(bias.sizes(), fp32) : torch::Tensor();
    for (int64_t from = 0; from < n; from += step) {
      const int64_t rows = std::min(step, n - from);
      const auto h_rows = hc.narrow(0, from, rows);
      const auto row_log_norm = log_norm.narrow(0, from, rows).unsqueeze(1);
      auto dz = kept.defined() ? kept - row_log_norm : logits(h_rows, w, b).sub_(row_log_norm);  // kept: one chunk
      dz.exp_().mul_(g_norm.narrow(0, from, rows).unsqueeze(1));
      dz.scatter_add_(1, targets.narrow(0, from, rows).unsqueeze(1), g_target.narrow(0, from, rows).unsqueeze(1));
      const auto dzc = dz.to(dtype);
      if (want_h) d_h.narrow(0, from, rows).copy_(torch::mm(dzc, w));
      if (want_w) {
        if (!d_w.defined())
          d_w = torch::mm(dzc.t(), h_rows).to(torch::kFloat);
        else if (dtype == torch::kFloat)
          d_w.addmm_(dzc.t(), h_rows);
        else
          d_w.add_(torch::mm(dzc.t(), h_rows));
      }
      if (want_b) d_b.add_(dz.sum(0));
    }
    return {want_h ? d_h.to(h.scalar_type()) : d_h, want_w ? d_w.to(weight.scalar_type()) : d_w,
            want_b ? d_b.to(bias.scalar_type()) : d_b, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor pointer_nll(torch::nn::Linear& out, const PointerSteps& s, const torch::Tensor& context_ids,
                          const torch::Tensor& question_ids, const torch::Tensor& targets, int64_t pad,
                          const torch::Tensor& target_positions) {
  // Only the positions with a target (padding is most of a (B, T) batch of
  // short answers): flat indices b * T + t.
  const auto positions = target_positions.defined() ? target_positions : targets.ne(pad).flatten().nonzero().squeeze(1);
  auto at_targets = [&](const torch::Tensor& x) {  // (B, T, ...) -> (N, ...)
    return x.reshape({x.size(0) * x.size(1), -1}).index_select(0, positions);
  };
  const auto y = targets.flatten().index_select(0, positions);
  // The products in bfloat16 when the forward pass is autocast (training.precision).
  const auto h = at_targets(s.output);
  const auto compute = autocast_dtype(h.device()).value_or(out->weight.scalar_type());
  const auto normaliser = OutputNormaliser::apply(h, out->weight, out->bias, y, static_cast<int64_t>(compute));
  const auto p_vocab = torch::exp(normaliser[1] - normaliser[0]);  // (N)
  const auto tgt = targets.unsqueeze(-1);
  const auto copy = at_targets((s.context_attention * context_ids.unsqueeze(1).eq(tgt)).sum(-1, true)).squeeze(1);
  const auto gamma = at_targets(s.gamma).squeeze(1);
  torch::Tensor p;
  if (s.question_attention.defined()) {
    const auto copy_q = at_targets((s.question_attention * question_ids.unsqueeze(1).eq(tgt)).sum(-1, true)).squeeze(1);
    const auto lambda = at_targets(s.lambda).squeeze(1);
    p = gamma * p_vocab + (1 - gamma) * (lambda * copy + (1 - lambda) * copy_q);
  } else {
    p = gamma * p_vocab + (1 - gamma) * copy;
  }
  return -torch::log(p + kEpsilon).mean();
}

torch::Tensor pointer_log_probs(torch::nn::Linear& out, const PointerStep& s, const torch::Tensor& context_ids,
                                const torch::Tensor& question_ids) {
  // What the copy distributions add, by the ids they add it at.
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;
  if (s.question_attention.defined()) {
    copies = {{context_ids, (1 - s.gamma) * s.lambda * s.context_attention},
              {question_ids, (1 - s.gamma) * (1 - s.lambda) * s.question_attention}};
  } else {
    copies = {{context_ids, (1 - s.gamma) * s.context_attention}};
  }
  auto p = torch::softmax(out->forward(s.output).to(torch::kFloat), -1);  // (B, V)
  if (!torch::GradMode::is_enabled()) {
    // Decoding: the same operations in place, no (B, V) copies.
    p.mul_(s.gamma);
    for (const auto& [ids, weight] : copies) p.scatter_add_(1, ids, weight);
    return p.add_(kEpsilon).log_();
  }
  p = p * s.gamma;
  for (const auto& [ids, weight] : copies) p = p.scatter_add(1, ids, weight);
  return torch::log(p + kEpsilon);
}

std::shared_ptr<const kernels::PackedRows> pack_for_decoding(const torch::nn::Linear& out, OutputPrecision precision) {
  const auto& w = out->weight;
  if (!cpu_fp32_inference({w})) return nullptr;
  const auto weight = w.contiguous();
  const auto bias = out->bias.defined() ? out->bias.to(torch::kFloat).contiguous() : torch::Tensor();
  // bf16 only where the CPU's dot product makes it the faster one.
  const auto pack =
      precision == OutputPrecision::bf16 && kernels::has_bf16_dot() ? kernels::pack_rows_bf16 : kernels::pack_rows;
  return std::make_shared<const kernels::PackedRows>(pack(
      weight.data_ptr<float>(), bias.defined() ? bias.data_ptr<float>() : nullptr, weight.size(0), weight.size(1)));
}

std::pair<torch::Tensor, torch::Tensor> pointer_top(torch::nn::Linear& out, const kernels::PackedRows* packed,
                                                    const PointerStep& s, const torch::Tensor& context_ids,
                                                    const torch::Tensor& question_ids, int64_t width) {
  if (!packed || !cpu_fp32_inference({s.output})) {
    auto [values, ids] = pointer_log_probs(out, s, context_ids, question_ids).topk(width, 1);
    return {values, ids};
  }
  const auto h = s.output.contiguous();
  const int64_t rows = h.size(0), dim = h.size(1), panels = packed->panel_count();
  // The vocabulary split over the threads, each scoring all rows.
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), panels / 64));
  std::vector<kernels::RowScores> scores(static_cast<size_t>(parts), kernels::RowScores(rows, width));
  kernels::parallel_for(0, parts, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t)
      kernels::score_panels(*packed, h.data_ptr<float>(), t * panels / parts, (t + 1) * panels / parts,
                            scores[static_cast<size_t>(t)]);
  });
  auto& vocab = scores.front();
  for (size_t t = 1; t < scores.size(); ++t) vocab.merge(scores[t]);

  // What the copy distributions add, per row, at the ids they copy.
  const bool dual = s.question_attention.defined();
  const auto gamma = s.gamma.contiguous(), lambda = dual ? s.lambda.contiguous() : torch::Tensor();
  struct Copy {
    torch::Tensor ids, attention;
    bool from_context;
  };
  std::vector<Copy> copies = {{context_ids.to(torch::kInt64).contiguous(), s.context_attention.contiguous(), true}};
  if (dual) copies.push_back({question_ids.to(torch::kInt64).contiguous(), s.question_attention.contiguous(), false});
  const auto weight_rows = out->weight.contiguous();
  const float* weight = weight_rows.data_ptr<float>();
  const float* bias = out->bias.defined() ? out->bias.data_ptr<float>() : nullptr;

  auto values = torch::full({rows, width}, -std::numeric_limits<float>::infinity(), torch::kFloat);
  auto ids = torch::zeros({rows, width}, torch::kInt64);
  float* top_values = values.data_ptr<float>();
  int64_t* top_ids = ids.data_ptr<int64_t>();
  const float* gammas = gamma.data_ptr<float>();
  const float* lambdas = dual ? lambda.data_ptr<float>() : nullptr;
  const float* hs = h.data_ptr<float>();
  kernels::parallel_for(0, rows, 8, [&](int64_t begin, int64_t end) {
    std::vector<std::pair<int64_t, double>> copied;
    std::vector<std::pair<double, int64_t>> candidates;
    for (int64_t r = begin; r < end; ++r) {
      const double g = gammas[r], log_norm = vocab.log_norm(r), l = dual ? lambdas[r] : 1.0;
      copied.clear();
      for (const auto& c : copies) {
        const int64_t n = c.ids.size(1);
        const int64_t* id = c.ids.data_ptr<int64_t>() + r * n;
        const float* a = c.attention.data_ptr<float>() + r * n;
        const double share = (1 - g) * (c.from_context ? l : 1 - l);
        for (int64_t j = 0; j < n; ++j) copied.emplace_back(id[j], share * a[j]);
      }
      std::sort(copied.begin(), copied.end());
      candidates.clear();
      auto score = [&](int64_t id, double logit, double copy) {
        candidates.emplace_back(std::log(g * std::exp(logit - log_norm) + copy + kEpsilon), id);
      };
      const float* hr = hs + r * dim;
      for (size_t j = 0; j < copied.size();) {
        const int64_t id = copied[j].first;
        double copy = 0;
        for (; j < copied.size() && copied[j].first == id; ++j) copy += copied[j].second;
        score(id, kernels::dot(hr, weight + id * dim, dim) + (bias ? bias[id] : 0.0f), copy);
      }
      for (int64_t j = 0; j < width; ++j) {
        const int32_t id = vocab.ids[static_cast<size_t>(r * width + j)];
        if (id < 0) break;
        const auto at = std::lower_bound(copied.begin(), copied.end(), std::pair<int64_t, double>{id, -1e300});
        if (at == copied.end() || at->first != id) score(id, vocab.top[static_cast<size_t>(r * width + j)], 0.0);
      }
      const auto best = candidates.begin() + std::min<int64_t>(width, static_cast<int64_t>(candidates.size()));
      std::partial_sort(candidates.begin(), best, candidates.end(), [](const auto& a, const auto& b) {
        return a.first > b.first || (a.first == b.first && a.second < b.second);
      });
      for (auto c = candidates.begin(); c != best; ++c) {
        const int64_t j = r * width + (c - candidates.begin());
        top_values[j] = static_cast<float>(c->first);
        top_ids[j] = c->second;
      }
    }
  });
  return {values, ids};
}

}  // namespace deca::model
