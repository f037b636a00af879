// Reduced precision for speed: TF32 matrix products on CUDA, and bfloat16
// autocast of the forward pass (weights, gradients and the optimizer's state
// stay fp32) on CUDA and the CPU. training.precision chooses.
#pragma once

#include <torch/types.h>

#include <optional>
#include <string>

namespace deca::model {

// Sets the process's CUDA matrix products for `precision` (tf32 and bf16:
// TF32 in cuBLAS and cuDNN; fp32: full fp32). Nothing changes on the CPU.
void set_matmul_precision(const std::string& precision);

// The dtype that autocast gives matrix products on `device` now; nullopt
// when autocast is off there.
std::optional<at::ScalarType> autocast_dtype(const torch::Device& device);

// While alive, autocasts the ops LibTorch lists for autocast on `device` to
// bfloat16 (when `enabled`); restores the previous state when it ends.
class Autocast {
 public:
  Autocast(const torch::Device& device, bool enabled);
  ~Autocast();
  Autocast(const Autocast&) = delete;
  Autocast& operator=(const Autocast&) = delete;

 private:
  bool enabled_ = false, cuda_ = false, was_enabled_ = false;
  at::ScalarType was_dtype_ = at::kFloat;
};

}  // namespace deca::model
