#include "deca/kernels/adam_update.h"

#include <cmath>

#include "deca/core/counter_hash.h"
#include "deca/kernels/bf16.h"
#include "vector_math.h"

namespace deca::kernels {
namespace {

// kGrad: whether there is a gradient (a constant: a load under a condition
// would keep the loop from vectorising).
template <bool kGrad>
DECA_INLINE inline void update_fp32(float* __restrict w, float* __restrict m, float* __restrict v,
                                    const float* __restrict g, int64_t begin, int64_t end, const AdamUpdate& a) {
  const float b1 = a.beta1, b2 = a.beta2, eps = a.eps, step = a.step_size, inv = a.inv_sqrt_correction2,
              scale = a.grad_scale;
  for (int64_t k = begin; k < end; ++k) {
    const float gk = kGrad ? g[k - begin] * scale : 0.0f;
    m[k] = b1 * m[k] + (1 - b1) * gk;
    v[k] = b2 * v[k] + (1 - b2) * gk * gk;
    w[k] -= step * m[k] / (std::sqrt(v[k]) * inv + eps);
  }
}

template <bool kGrad>
DECA_INLINE inline void update_bf16(float* __restrict w, uint16_t* __restrict m, uint16_t* __restrict v,
                                    const float* __restrict g, int64_t begin, int64_t end, const AdamUpdate& a) {
  const float b1 = a.beta1, b2 = a.beta2, eps = a.eps, step = a.step_size, inv = a.inv_sqrt_correction2,
              scale = a.grad_scale;
  for (int64_t k = begin; k < end; ++k) {
    const float gk = kGrad ? g[k - begin] * scale : 0.0f;
    const float mk = b1 * from_bf16(m[k]) + (1 - b1) * gk;
    const float vk = b2 * from_bf16(v[k]) + (1 - b2) * gk * gk;
    w[k] -= step * mk / (std::sqrt(vk) * inv + eps);
    const uint32_t r = rounding_bits(a.rounding_key, k);
    m[k] = to_bf16_stochastic(mk, r & 0xffff);
    v[k] = to_bf16_stochastic(vk, r >> 16);
  }
}

}  // namespace

uint32_t rounding_bits(uint64_t key, int64_t k) {
  const uint64_t r = splitmix64(key + static_cast<uint64_t>(k >> 1) * kCounterStride);
  return static_cast<uint32_t>(k & 1 ? r >> 32 : r);
}

void adam_update(const AdamUpdate& a, int64_t begin, int64_t end, const float* g, Isa isa) {
  on_isa(isa, [&]() DECA_INLINE {
    if (a.bf16_moments) {
      auto* m = static_cast<uint16_t*>(a.exp_avg);
      auto* v = static_cast<uint16_t*>(a.exp_avg_sq);
      if (g)
        update_bf16<true>(a.weight, m, v, g, begin, end, a);
      else
        update_bf16<false>(a.weight, m, v, g, begin, end, a);
    } else {
      auto* m = static_cast<float*>(a.exp_avg);
      auto* v = static_cast<float*>(a.exp_avg_sq);
      if (g)
        update_fp32<true>(a.weight, m, v, g, begin, end, a);
      else
        update_fp32<false>(a.weight, m, v, g, begin, end, a);
    }
  });
}

}  // namespace deca::kernels
