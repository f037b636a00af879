#include "recurrence.h"

#include "on_cpu.h"

#include "deca/kernels/lstm_cell.h"
#include "deca/kernels/parallel.h"

#include <cstring>

namespace deca::model {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Rows [0, b) of h columns each, split over threads when there is enough work.
template <class Body>
void for_rows(int64_t b, int64_t h, const Body& body) {
  kernels::parallel_for(0, b, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, h)), [&](int64_t from, int64_t to) {
    for (int64_t r = from; r < to; ++r) body(r);
  });
}

// Runs body(0) ... body(n - 1), independent recurrences, one per thread when
// there are several threads: each then runs its small products and loops on
// its own core, without a barrier between the threads at every step.
template <class Body>
void each_recurrence(size_t n, const Body& body) {
  if (n < 2 || at::get_num_threads() < 2) {
    for (size_t i = 0; i < n; ++i) body(i);
    return;
  }
  kernels::parallel_for(0, static_cast<int64_t>(n), 1, [&](int64_t from, int64_t to) {
    torch::NoGradGuard no_grad;  // grad mode is per thread: out= products refuse inputs that require grad
    for (int64_t i = from; i < to; ++i) body(static_cast<size_t>(i));
  });
}

// Rows of w floats between step-major (L, B, w) and position-major (B, L, w):
// step t of row r is position order[r][t] (undefined order: t).
torch::Tensor reorder(const torch::Tensor& x, const torch::Tensor& order, bool to_positions) {
  if (!order.defined()) return x.transpose(0, 1).contiguous();
  const auto from = x.contiguous();
  const int64_t b = x.size(to_positions ? 1 : 0), len = x.size(to_positions ? 0 : 1), w = x.size(2);
  auto to = to_positions ? torch::empty({b, len, w}, from.options()) : torch::empty({len, b, w}, from.options());
  const float* src = from.data_ptr<float>();
  float* dst = to.data_ptr<float>();
  const int64_t* ord = order.data_ptr<int64_t>();
  kernels::parallel_for(0, b * len, std::max<int64_t>(1, 16384 / w), [&](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i) {
      const int64_t r = i / len, t = i % len, step = (t * b + r) * w, position = (r * len + ord[i]) * w;
      std::memcpy(dst + (to_positions ? position : step), src + (to_positions ? step : position),
                  static_cast<size_t>(w) * sizeof(float));
    }
  });
  return to;
}

torch::Tensor steps_to_positions(const torch::Tensor& x, const torch::Tensor& order) { return reorder(x, order, true); }
torch::Tensor positions_to_steps(const torch::Tensor& x, const torch::Tensor& order) {
  return reorder(x, order, false);
}

// Time-major buffers of one recurrence: acts (L, B, 4h) holds the gates after
// their nonlinearities, hs and cs (L + 1, B, h) the states, zero state first.
struct Buffers {
  torch::Tensor acts, hs, cs;
};

// keep_gates false (no backward to come): acts holds only the latest step.
Buffers run_forward(const torch::Tensor& gates_x, const torch::Tensor& w_hh, const torch::Tensor& order,
                    bool keep_gates) {
  const int64_t b = gates_x.size(0), len = gates_x.size(1), h = w_hh.size(1);
  Buffers s{torch::empty({keep_gates ? len : 1, b, 4 * h}, gates_x.options()),
            torch::zeros({len + 1, b, h}, gates_x.options()), torch::zeros({len + 1, b, h}, gates_x.options())};
  const auto w_hh_t = w_hh.t();
  const auto gx = order.defined() ? gates_x.contiguous() : gates_x;
  const int64_t* ord = order.defined() ? order.data_ptr<int64_t>() : nullptr;
  for (int64_t t = 0; t < len; ++t) {
    auto a = s.acts[keep_gates ? t : 0];
    if (ord) {  // each row's gates at its position for step t
      const float* src = gx.data_ptr<float>();
      float* dst = a.data_ptr<float>();
      for (int64_t r = 0; r < b; ++r)
        std::memcpy(dst + r * 4 * h, src + (r * len + ord[r * len + t]) * 4 * h,
                    static_cast<size_t>(4 * h) * sizeof(float));
      a.addmm_(s.hs[t], w_hh_t);
    } else {
      torch::addmm_out(a, gx.select(1, t), s.hs[t], w_hh_t);
    }
    float* pa = a.data_ptr<float>();
    const float* c_prev = s.cs[t].data_ptr<float>();
    float* c_now = s.cs[t + 1].data_ptr<float>();
    float* h_now = s.hs[t + 1].data_ptr<float>();
    for_rows(b, h,
             [&](int64_t r) { kernels::lstm_cell(pa + r * 4 * h, c_prev + r * h, c_now + r * h, h_now + r * h, h); });
  }
  return s;
}

// Gradients of gates_x and (if wanted) w_hh from those of the outputs.
std::pair<torch::Tensor, torch::Tensor> run_backward(const torch::Tensor& w_hh, const Buffers& s,
                                                     const torch::Tensor& order, const torch::Tensor& g_hs,
                                                     const torch::Tensor& g_cs, bool want_w_hh) {
  const int64_t len = s.acts.size(0), b = s.acts.size(1), h = s.hs.size(2);
  // Gradients of the outputs, time-major (undefined: not used downstream).
  auto time_major = [&](const torch::Tensor& g) {
    return g.defined() ? positions_to_steps(g, order) : torch::Tensor();
  };
  const auto dh_out = time_major(g_hs), dc_out = time_major(g_cs);
  auto d_acts = torch::empty_like(s.acts);  // gradients of the gates before their nonlinearities
  auto dh_next = torch::zeros({b, h}, s.acts.options()), dc_next = torch::zeros({b, h}, s.acts.options());
  float* pdh_next = dh_next.data_ptr<float>();
  float* pdc_next = dc_next.data_ptr<float>();
  for (int64_t t = len - 1; t >= 0; --t) {
    const float* pa = s.acts[t].data_ptr<float>();
    const float* c_now = s.cs[t + 1].data_ptr<float>();
    const float* c_prev = s.cs[t].data_ptr<float>();
    const float* g_h = dh_out.defined() ? dh_out[t].data_ptr<float>() : nullptr;
    const float* g_c = dc_out.defined() ? dc_out[t].data_ptr<float>() : nullptr;
    auto da = d_acts[t];
    float* pda = da.data_ptr<float>();
    for_rows(b, h, [&](int64_t r) {
      const int64_t k = r * h;
      kernels::lstm_cell_backward(pa + r * 4 * h, c_now + k, c_prev + k, g_h ? g_h + k : nullptr,
                                  g_c ? g_c + k : nullptr, pdh_next + k, pdc_next + k, pda + r * 4 * h, h);
    });
    if (t > 0) torch::mm_out(dh_next, da, w_hh);
  }
  torch::Tensor d_w_hh;
  if (want_w_hh) d_w_hh = torch::mm(d_acts.view({len * b, 4 * h}).t(), s.hs.narrow(0, 0, len).reshape({len * b, h}));
  return {steps_to_positions(d_acts, order), d_w_hh};
}

// Inputs gates_x_0, w_hh_0, gates_x_1, w_hh_1, ...: independent recurrences
// (the two directions of a bidirectional layer), each in its order (orders[i],
// not differentiated); outputs hs_0, cs_0, hs_1, ...
struct Orders {
  std::vector<torch::Tensor> of;
};

struct LstmRecurrences : torch::autograd::Function<LstmRecurrences> {
  static variable_list forward(AutogradContext* ctx, at::TensorList inputs, const Orders& orders) {
    const size_t n = inputs.size() / 2;
    std::vector<Buffers> runs(n);
    each_recurrence(n, [&](size_t i) { runs[i] = run_forward(inputs[2 * i], inputs[2 * i + 1], orders.of[i], true); });
    variable_list saved, out;
    using torch::indexing::Slice;
    for (size_t i = 0; i < n; ++i) {
      saved.insert(saved.end(), {inputs[2 * i + 1], runs[i].acts, runs[i].hs, runs[i].cs, orders.of[i]});
      out.push_back(steps_to_positions(runs[i].hs.index({Slice(1)}), orders.of[i]));
      out.push_back(steps_to_positions(runs[i].cs.index({Slice(1)}), orders.of[i]));
    }
    ctx->save_for_backward(saved);  // freed after backward, unlike saved_data
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const size_t n = saved.size() / 5;
    variable_list result(2 * n + 1);  // the last for `orders`
    each_recurrence(n, [&](size_t i) {
      const Buffers s{saved[5 * i + 1], saved[5 * i + 2], saved[5 * i + 3]};
      std::tie(result[2 * i], result[2 * i + 1]) = run_backward(saved[5 * i], s, saved[5 * i + 4], grads[2 * i],
                                                                grads[2 * i + 1], ctx->needs_input_grad(2 * i + 1));
    });
    return result;
  }
};

}  // namespace

bool fused_recurrence_applies(const torch::Tensor& gates_x, const torch::Tensor& w_hh) {
  return cpu_fp32({gates_x, w_hh}) && gates_x.dim() == 3 && gates_x.size(1) > 0;
}

std::vector<std::pair<torch::Tensor, torch::Tensor>> lstm_recurrences(const std::vector<RecurrenceRun>& runs) {
  std::vector<std::pair<torch::Tensor, torch::Tensor>> states(runs.size());
  Orders orders;
  for (const auto& run : runs) {
    TORCH_CHECK(!run.order.defined() ||
                    (run.order.scalar_type() == torch::kInt64 && run.order.sizes() == run.gates_x.sizes().slice(0, 2)),
                "lstm_recurrences: the order must be (B, L) int64");
    orders.of.push_back(run.order.defined() ? run.order.contiguous() : torch::Tensor());
  }
  if (!torch::GradMode::is_enabled()) {  // inference: no autograd node, no gates kept for a backward pass
    each_recurrence(runs.size(), [&](size_t i) {
      const auto s = run_forward(runs[i].gates_x, runs[i].w_hh.contiguous(), orders.of[i], false);
      using torch::indexing::Slice;
      states[i] = {steps_to_positions(s.hs.index({Slice(1)}), orders.of[i]),
                   steps_to_positions(s.cs.index({Slice(1)}), orders.of[i])};
    });
    return states;
  }
  std::vector<torch::Tensor> inputs;
  for (const auto& run : runs) {
    inputs.push_back(run.gates_x);
    inputs.push_back(run.w_hh.contiguous());
  }
  const auto out = LstmRecurrences::apply(at::TensorList(inputs), orders);
  for (size_t i = 0; i < runs.size(); ++i) states[i] = {out[2 * i], out[2 * i + 1]};
  return states;
}

}  // namespace deca::model
