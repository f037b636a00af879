#include "recurrence.h"

#include "deca/model/lstm_cell.h"
#include "deca/model/parallel.h"

namespace deca::model {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Rows [0, b) of h columns each, split over threads when there is enough work.
template <class Body>
void for_rows(int64_t b, int64_t h, const Body& body) {
  parallel_for(0, b, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, h)), [&](int64_t from, int64_t to) {
    for (int64_t r = from; r < to; ++r) body(r);
  });
}

// Time-major buffers: acts (L, B, 4h) holds the gates after their
// nonlinearities, hs and cs (L + 1, B, h) the states with the zero state first.
struct LstmRecurrence : torch::autograd::Function<LstmRecurrence> {
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& gates_x, const torch::Tensor& w_hh) {
    const int64_t b = gates_x.size(0), len = gates_x.size(1), h = w_hh.size(1);
    auto acts = torch::empty({len, b, 4 * h}, gates_x.options());
    auto hs = torch::zeros({len + 1, b, h}, gates_x.options());
    auto cs = torch::zeros({len + 1, b, h}, gates_x.options());
    const auto w_hh_t = w_hh.t();
    for (int64_t t = 0; t < len; ++t) {
      auto a = acts[t];
      torch::addmm_out(a, gates_x.select(1, t), hs[t], w_hh_t);
      float* pa = a.data_ptr<float>();
      const float* c_prev = cs[t].data_ptr<float>();
      float* c_now = cs[t + 1].data_ptr<float>();
      float* h_now = hs[t + 1].data_ptr<float>();
      for_rows(b, h, [&](int64_t r) { cpu::lstm_cell(pa + r * 4 * h, c_prev + r * h, c_now + r * h, h_now + r * h, h); });
    }
    ctx->save_for_backward({w_hh, acts, hs, cs});  // freed after backward, unlike saved_data
    using torch::indexing::Slice;
    return {hs.index({Slice(1)}).transpose(0, 1).contiguous(), cs.index({Slice(1)}).transpose(0, 1).contiguous()};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &w_hh = saved[0], &acts = saved[1], &hs = saved[2], &cs = saved[3];
    const int64_t len = acts.size(0), b = acts.size(1), h = hs.size(2);
    // Gradients of the outputs, time-major (undefined: not used downstream).
    auto time_major = [&](const torch::Tensor& g) {
      return g.defined() ? g.transpose(0, 1).contiguous() : torch::Tensor();
    };
    const auto dh_out = time_major(grads[0]), dc_out = time_major(grads[1]);
    auto d_acts = torch::empty_like(acts);  // gradients of the gates before their nonlinearities
    auto dh_next = torch::zeros({b, h}, acts.options()), dc_next = torch::zeros({b, h}, acts.options());
    float* pdh_next = dh_next.data_ptr<float>();
    float* pdc_next = dc_next.data_ptr<float>();
    for (int64_t t = len - 1; t >= 0; --t) {
      const float* pa = acts[t].data_ptr<float>();
      const float* c_now = cs[t + 1].data_ptr<float>();
      const float* c_prev = cs[t].data_ptr<float>();
      const float* g_h = dh_out.defined() ? dh_out[t].data_ptr<float>() : nullptr;
      const float* g_c = dc_out.defined() ? dc_out[t].data_ptr<float>() : nullptr;
      auto da = d_acts[t];
      float* pda = da.data_ptr<float>();
      for_rows(b, h, [&](int64_t r) {
        const int64_t k = r * h;
        cpu::lstm_cell_backward(pa + r * 4 * h, c_now + k, c_prev + k, g_h ? g_h + k : nullptr, g_c ? g_c + k : nullptr,
                           pdh_next + k, pdc_next + k, pda + r * 4 * h, h);
      });
      if (t > 0) torch::mm_out(dh_next, da, w_hh);
    }
    torch::Tensor d_w_hh;
    if (ctx->needs_input_grad(1))
      d_w_hh = torch::mm(d_acts.view({len * b, 4 * h}).t(), hs.narrow(0, 0, len).reshape({len * b, h}));
    return {d_acts.transpose(0, 1).contiguous(), d_w_hh};
  }
};

}  // namespace

bool fused_recurrence_applies(const torch::Tensor& gates_x, const torch::Tensor& w_hh) {
  return gates_x.device().is_cpu() && gates_x.scalar_type() == torch::kFloat && w_hh.scalar_type() == torch::kFloat &&
         gates_x.dim() == 3 && gates_x.size(1) > 0;
}

std::pair<torch::Tensor, torch::Tensor> lstm_recurrence(const torch::Tensor& gates_x, const torch::Tensor& w_hh) {
  auto out = LstmRecurrence::apply(gates_x, w_hh.contiguous());
  return {out[0], out[1]};
}

}  // namespace deca::model
