#include "deca/kernels/dropout_mask.h"

#include <algorithm>
#include <cmath>

#include "deca/core/counter_hash.h"
#include "deca/kernels/parallel.h"
#include "vector_math.h"

namespace deca::kernels {
namespace {

constexpr int64_t kBlock = 64;

struct MaskRule {
  uint64_t key;
  uint32_t threshold;
  float scale;
  MaskRule(uint64_t key_, double p)
      : key(key_),
        threshold(static_cast<uint32_t>(std::min(4294967295.0, std::floor(p * 4294967296.0)))),
        scale(keep_scale(p)) {}
  uint32_t word(int64_t i) const {
    const uint64_t r = splitmix64(key + static_cast<uint64_t>(i / 2) * kCounterStride);
    return static_cast<uint32_t>(i % 2 ? r >> 32 : r);
  }
};

// out = in * mask over the elements [block * 64, +n) (n <= 64), returning their bits.
DECA_INLINE inline uint64_t block_forward(const float* __restrict in, float* __restrict out, int64_t block, int64_t n,
                                          const MaskRule& rule) {
  if (n < kBlock) {
    uint64_t bits = 0;
    for (int64_t e = 0; e < n; ++e) {
      const bool keep = rule.word(block * kBlock + e) >= rule.threshold;
      out[e] = in[e] * (keep ? rule.scale : 0.0f);
      bits |= static_cast<uint64_t>(keep) << e;
    }
    return bits;
  }
  uint64_t hash[kBlock / 2];
  const uint64_t base = rule.key + static_cast<uint64_t>(block * (kBlock / 2)) * kCounterStride;
  for (int64_t q = 0; q < kBlock / 2; ++q) hash[q] = splitmix64(base + static_cast<uint64_t>(q) * kCounterStride);
  uint32_t word[kBlock];
  for (int64_t q = 0; q < kBlock / 2; ++q) {
    word[2 * q] = static_cast<uint32_t>(hash[q]);
    word[2 * q + 1] = static_cast<uint32_t>(hash[q] >> 32);
  }
  uint64_t bits = 0;
  for (int64_t e = 0; e < kBlock; ++e) {
    const bool keep = word[e] >= rule.threshold;
    out[e] = in[e] * (keep ? rule.scale : 0.0f);
    bits |= static_cast<uint64_t>(keep) << e;
  }
  return bits;
}

DECA_INLINE inline void block_backward(const float* __restrict in, float* __restrict out, uint64_t bits, int64_t n,
                                       float scale) {
  if (n < kBlock) {
    for (int64_t e = 0; e < n; ++e) out[e] = in[e] * ((bits >> e) & 1 ? scale : 0.0f);
    return;
  }
  // In 32-bit halves: shifts of 32-bit lanes vectorize.
  for (int half = 0; half < 2; ++half) {
    const auto word = static_cast<uint32_t>(bits >> (32 * half));
    for (uint32_t e = 0; e < 32; ++e) out[32 * half + e] = in[32 * half + e] * ((word >> e) & 1 ? scale : 0.0f);
  }
}

}  // namespace

float keep_scale(double p) { return static_cast<float>(1.0 / (1.0 - p)); }

void mask_forward(const float* in, float* out, uint64_t* bits, int64_t n, uint64_t key, double p, Isa isa) {
  const MaskRule rule(key, p);
  parallel_for(0, (n + kBlock - 1) / kBlock, 512, [&](int64_t from, int64_t to) {
    on_isa(isa, [=, &rule]() DECA_INLINE {
      for (int64_t b = from; b < to; ++b)
        bits[b] = block_forward(in + b * kBlock, out + b * kBlock, b, std::min(kBlock, n - b * kBlock), rule);
    });
  });
}

void mask_backward(const float* in, float* out, const uint64_t* bits, int64_t n, double p, Isa isa) {
  const float scale = keep_scale(p);
  parallel_for(0, (n + kBlock - 1) / kBlock, 512, [&](int64_t from, int64_t to) {
    on_isa(isa, [=]() DECA_INLINE {
      for (int64_t b = from; b < to; ++b)
        block_backward(in + b * kBlock, out + b * kBlock, bits[b], std::min(kBlock, n - b * kBlock), scale);
    });
  });
}

}  // namespace deca::kernels
