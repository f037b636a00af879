#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <mutex>

#include "deca/kernels/dropout_mask.h"
#include "deca/model/layers.h"
#include "on_cpu.h"

namespace deca::model {
namespace {

// One 64-bit key per mask, from LibTorch's default CPU generator.
uint64_t draw_key() {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(generator)->random64();
}

struct HashDropout : torch::autograd::Function<HashDropout> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, int64_t key, double p) {
    const auto xc = x.contiguous();
    const int64_t n = xc.numel();
    auto y = torch::empty_like(xc);
    auto bits = torch::empty({(n + 63) / 64}, xc.options().dtype(torch::kInt64));
    kernels::mask_forward(xc.data_ptr<float>(), y.data_ptr<float>(),
                          reinterpret_cast<uint64_t*>(bits.data_ptr<int64_t>()), n, static_cast<uint64_t>(key), p);
    ctx->save_for_backward({bits});
    ctx->saved_data["p"] = p;
    return y;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto bits = ctx->get_saved_variables()[0];
    const auto g = grads[0].contiguous();
    auto d = torch::empty_like(g);
    kernels::mask_backward(g.data_ptr<float>(), d.data_ptr<float>(),
                           reinterpret_cast<const uint64_t*>(bits.data_ptr<int64_t>()), g.numel(),
                           ctx->saved_data["p"].toDouble());
    return {d, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor dropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p <= 0) return x;
  if (!cpu_fp32({x}) || p >= 1) return torch::dropout(x, p, training);
  return HashDropout::apply(x, static_cast<int64_t>(draw_key()), p);
}

}  // namespace deca::model
