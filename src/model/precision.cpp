#include "deca/model/precision.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace deca::model {
namespace {

// LibTorch 2.4 made autocast's switches per device type; 1.13 to 2.3 name the CPU and the GPU apart.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool enabled_on(bool cuda) { return at::autocast::is_autocast_enabled(cuda ? at::kCUDA : at::kCPU); }
void enable_on(bool cuda, bool on) { at::autocast::set_autocast_enabled(cuda ? at::kCUDA : at::kCPU, on); }
at::ScalarType dtype_on(bool cuda) { return at::autocast::get_autocast_dtype(cuda ? at::kCUDA : at::kCPU); }
void set_dtype_on(bool cuda, at::ScalarType t) { at::autocast::set_autocast_dtype(cuda ? at::kCUDA : at::kCPU, t); }
#else
bool enabled_on(bool cuda) { return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled(); }
void enable_on(bool cuda, bool on) { cuda ? at::autocast::set_enabled(on) : at::autocast::set_cpu_enabled(on); }
at::ScalarType dtype_on(bool cuda) {
  return cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
void set_dtype_on(bool cuda, at::ScalarType t) {
  cuda ? at::autocast::set_autocast_gpu_dtype(t) : at::autocast::set_autocast_cpu_dtype(t);
}
#endif

}  // namespace

std::optional<at::ScalarType> autocast_dtype(const torch::Device& device) {
  const bool cuda = device.is_cuda();
  if (!enabled_on(cuda)) return std::nullopt;
  return dtype_on(cuda);
}

void set_matmul_precision(const std::string& precision) {
  const bool tf32 = precision != "fp32";
  at::globalContext().setAllowTF32CuBLAS(tf32);
  at::globalContext().setAllowTF32CuDNN(tf32);
}

Autocast::Autocast(const torch::Device& device, bool enabled) : enabled_(enabled), cuda_(device.is_cuda()) {
  if (!enabled_) return;
  was_enabled_ = enabled_on(cuda_);
  was_dtype_ = dtype_on(cuda_);
  set_dtype_on(cuda_, at::kBFloat16);
  enable_on(cuda_, true);
  at::autocast::increment_nesting();
}

Autocast::~Autocast() {
  if (!enabled_) return;
  // Leaving the outermost region frees the casts autocast cached for the weights.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  enable_on(cuda_, was_enabled_);
  set_dtype_on(cuda_, was_dtype_);
}

}  // namespace deca::model
