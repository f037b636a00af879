// When the model's ops run deca's own CPU kernels (deca/kernels) instead of
// LibTorch's operators: every tensor involved on the CPU in float32. The one
// spelling of that test; an op adds what else it needs (no gradient for the
// inference kernels, a shape).
#pragma once

#include <torch/torch.h>

#include <initializer_list>

namespace deca::model {

inline bool cpu_fp32(std::initializer_list<std::reference_wrapper<const torch::Tensor>> tensors) {
  for (const torch::Tensor& t : tensors)
    if (!t.device().is_cpu() || t.scalar_type() != torch::kFloat) return false;
  return true;
}

// cpu_fp32 with autograd off: the inference kernels, which keep nothing for backward.
inline bool cpu_fp32_inference(std::initializer_list<std::reference_wrapper<const torch::Tensor>> tensors) {
  return !torch::GradMode::is_enabled() && cpu_fp32(tensors);
}

}  // namespace deca::model
