#include "pointer.h"

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
  dropout = register_module("dropout", torch::nn::Dropout(p));
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

torch::Tensor pointer_nll(torch::nn::Linear& out, const PointerSteps& s, const torch::Tensor& context_ids,
                          const torch::Tensor& question_ids, const torch::Tensor& targets, int64_t pad) {
  // The normaliser in fp32 also when the projection ran in bf16 (training.precision).
  auto logits = out->forward(s.output).to(torch::kFloat);          // (B, T, V)
  auto log_norm = torch::logsumexp(logits, -1);                    // (B, T)
  auto target_logit = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1);
  auto p_vocab = torch::exp(target_logit - log_norm);              // (B, T)
  auto tgt = targets.unsqueeze(-1);
  auto copy = (s.context_attention * context_ids.unsqueeze(1).eq(tgt)).sum(-1);  // (B, T)
  auto gamma = s.gamma.squeeze(-1);
  torch::Tensor p;
  if (s.question_attention.defined()) {
    auto copy_q = (s.question_attention * question_ids.unsqueeze(1).eq(tgt)).sum(-1);
    auto lambda = s.lambda.squeeze(-1);
    p = gamma * p_vocab + (1 - gamma) * (lambda * copy + (1 - lambda) * copy_q);
  } else {
    p = gamma * p_vocab + (1 - gamma) * copy;
  }
  auto mask = targets.ne(pad);
  auto nll = -torch::log(p + kEpsilon);
  return nll.masked_select(mask).mean();
}

torch::Tensor pointer_log_probs(torch::nn::Linear& out, const PointerStep& s, const torch::Tensor& context_ids,
                                const torch::Tensor& question_ids) {
  auto p = torch::softmax(out->forward(s.output).to(torch::kFloat), -1) * s.gamma;  // (B, V)
  if (s.question_attention.defined()) {
    p = p.scatter_add(1, context_ids, (1 - s.gamma) * s.lambda * s.context_attention);
    p = p.scatter_add(1, question_ids, (1 - s.gamma) * (1 - s.lambda) * s.question_attention);
  } else {
    p = p.scatter_add(1, context_ids, (1 - s.gamma) * s.context_attention);
  }
  return torch::log(p + kEpsilon);
}

}  // namespace deca::model
