// Adam's update of one parameter's elements in one pass (train/adam.cpp's
// fused CPU step): moments, bias corrections and the weight, as
// torch.optim.Adam computes them, the moments in fp32 or in bfloat16 with
// stochastic rounding.
#pragma once

#include <cstdint>

#include "deca/kernels/isa.h"

namespace deca::kernels {

struct AdamUpdate {
  float* weight = nullptr;
  void* exp_avg = nullptr;     // float, or uint16_t bfloat16 bits where bf16_moments
  void* exp_avg_sq = nullptr;  // as exp_avg
  bool bf16_moments = false;
  float beta1 = 0, beta2 = 0, eps = 0;
  float step_size = 0;             // lr / (1 - beta1^t)
  float inv_sqrt_correction2 = 0;  // 1 / sqrt(1 - beta2^t)
  float grad_scale = 1;            // the clipping factor
  uint64_t rounding_key = 0;       // bf16 moments: the stochastic rounding's key
};

// Elements [begin, end) from their gradients g (g[k - begin]; null: a zero
// gradient, whose moments still decay and move the weights).
void adam_update(const AdamUpdate& a, int64_t begin, int64_t end, const float* g, Isa isa = active_isa());

// The 32 random bits of element k under `key` (one hash per pair of
// elements): the low 16 round its first moment, the high 16 its second.
uint32_t rounding_bits(uint64_t key, int64_t k);

}  // namespace deca::kernels
