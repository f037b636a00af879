// The training optimizer: Adam as LibTorch's torch::optim::Adam computes it
// (no weight decay, no AMSGrad), with gradient clipping by global norm, and the
// skip of a step whose loss or gradient is not finite.
// - On a GPU the skip is decided on the device. LibTorch's own pieces need the
//   host for it (clip_grad_norm_ returns a double, Adam counts steps on the
//   host), which stalls a GPU every step; here the whole step is queued work,
//   and whether it was applied is a tensor to read when convenient (a log line).
// - On the CPU there is nothing to wait for: the host reads the flag and runs
//   one fused loop per parameter (one pass over weight, gradient and moments
//   instead of LibTorch's ten).
// A sparse gradient (an embedding's) updates as its dense equal: the rows it
// does not list take a zero gradient's update.
// The moments can be kept in bfloat16 (half the optimizer's memory: 97 MB of
// 194 for the decathlon's 24 M parameters). Each step computes in fp32 and
// rounds the new moments stochastically, from counter-hashed bits of the
// parameter, its step count and the element: unbiased, so a second moment that
// changes by less than half a bfloat16 unit per step still decays (rounding to
// nearest would freeze it), and the same on every thread count, device path and
// data-parallel rank.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace deca {

struct AdamOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double clip = 0;                                // the gradients' global L2 norm is clipped to this (0: no clipping)
  bool tensor_ops_on_cpu = false;                 // the GPU's path (tensor operations) on the CPU too: for tests
  torch::ScalarType state_dtype = torch::kFloat;  // the moments' storage: kFloat or kBFloat16
};

struct TrainOptions;
// The options a run's config sets (training.beta1, beta2, eps, grad_clip, optimizer_state).
AdamOptions adam_options(const TrainOptions& training);

class Adam {
 public:
  // Trains the parameters that require a gradient; the names key the saved state.
  Adam(const std::vector<std::pair<std::string, torch::Tensor>>& named_parameters, AdamOptions options);

  // Clips the gradients, then updates at learning rate `lr`, unless `loss` (a
  // 0-dim tensor on the parameters' device) or the gradients' norm is not
  // finite: then weights and state stay exactly as they were. A parameter
  // without a gradient is left alone, as LibTorch's Adam leaves it. Returns a
  // 0-dim bool tensor on the device: whether the update was applied. Nothing
  // here waits for the device.
  torch::Tensor step(const torch::Tensor& loss, double lr);
  void zero_grad();  // gradients to none
  // The learning rate of one parameter (by name) is `scale` times step()'s.
  void scale_lr(const std::string& name, double scale);

  // The state as bytes (optimizer.pt): per parameter name its moments and step count.
  std::string to_bytes() const;
  // Reads to_bytes's format, or torch::optim::Adam's (checkpoints of deca
  // before this optimizer) when the parameters are the same, in the same order.
  // Throws DataError naming the file.
  void load(const std::filesystem::path& file, const torch::Device& device);

  const std::vector<torch::Tensor>& parameters() const { return params_; }
  // Per parameter: its first and second moments (in options.state_dtype) and its count of applied steps.
  struct State {
    torch::Tensor exp_avg, exp_avg_sq;
  };
  const std::vector<State>& state() const { return state_; }
  const torch::Tensor& steps() const { return steps_; }

 private:
  std::vector<torch::Tensor> all_;     // every parameter, in the model's order (for the legacy format)
  std::vector<std::string> names_;     // of the trained ones
  std::vector<torch::Tensor> params_;  // the trained ones
  std::vector<State> state_;
  torch::Tensor gradient_norm(const std::vector<size_t>& with_grad) const;  // the L2 norm of all of them, 0-dim
  torch::Tensor step_with_tensor_ops(const torch::Tensor& loss, double lr, const std::vector<size_t>& with_grad);
  torch::Tensor step_fused_on_cpu(const torch::Tensor& loss, double lr, const std::vector<size_t>& with_grad);
  torch::Tensor steps_;               // (parameters,) float64 on the device: applied steps per parameter
  std::vector<double> lr_scale_;      // per trained parameter
  torch::Tensor lr_scale_on_device_;  // the same, for the tensor path (undefined: all 1)
  AdamOptions options_;
};

}  // namespace deca
