#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <mutex>

#include "deca/core/counter_hash.h"
#include "deca/model/layers.h"
#include "deca/model/parallel.h"

#include "cloned.h"

namespace deca::model {
namespace {

// One 64-bit key per mask, from LibTorch's default CPU generator.
uint64_t draw_key() {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(generator)->random64();
}

// The mask of element i is scale or 0 from a 32-bit word of the hash of key and
// i / 2 (low word for even i, high for odd): dropped when the word falls below
// p * 2^32. It is kept for backward as bits, bit i % 64 of bits[i / 64] (a
// float mask per dropout had been a tenth of a training step's peak memory).
constexpr int64_t kBlock = 64;

// What a kept element is multiplied by.
float keep_scale(double p) { return static_cast<float>(1.0 / (1.0 - p)); }

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
DECA_CLONED
uint64_t mask_block_forward(const float* __restrict in, float* __restrict out, int64_t block, int64_t n, MaskRule rule) {
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

DECA_CLONED
void mask_block_backward(const float* __restrict in, float* __restrict out, uint64_t bits, int64_t n, float scale) {
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

void mask_forward(const float* in, float* out, uint64_t* bits, int64_t n, const MaskRule& rule) {
  parallel_for(0, (n + kBlock - 1) / kBlock, 512, [&](int64_t from, int64_t to) {
    for (int64_t b = from; b < to; ++b)
      bits[b] = mask_block_forward(in + b * kBlock, out + b * kBlock, b, std::min(kBlock, n - b * kBlock), rule);
  });
}

void mask_backward(const float* in, float* out, const uint64_t* bits, int64_t n, float scale) {
  parallel_for(0, (n + kBlock - 1) / kBlock, 512, [&](int64_t from, int64_t to) {
    for (int64_t b = from; b < to; ++b)
      mask_block_backward(in + b * kBlock, out + b * kBlock, bits[b], std::min(kBlock, n - b * kBlock), scale);
  });
}

struct HashDropout : torch::autograd::Function<HashDropout> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, int64_t key, double p) {
    const auto xc = x.contiguous();
    const int64_t n = xc.numel();
    auto y = torch::empty_like(xc);
    auto bits = torch::empty({(n + kBlock - 1) / kBlock}, xc.options().dtype(torch::kInt64));
    mask_forward(xc.data_ptr<float>(), y.data_ptr<float>(), reinterpret_cast<uint64_t*>(bits.data_ptr<int64_t>()), n,
                 MaskRule(static_cast<uint64_t>(key), p));
    ctx->save_for_backward({bits});
    ctx->saved_data["p"] = p;
    return y;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto bits = ctx->get_saved_variables()[0];
    const auto g = grads[0].contiguous();
    auto d = torch::empty_like(g);
    mask_backward(g.data_ptr<float>(), d.data_ptr<float>(), reinterpret_cast<const uint64_t*>(bits.data_ptr<int64_t>()),
                  g.numel(), keep_scale(ctx->saved_data["p"].toDouble()));
    return {d, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor dropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p <= 0) return x;
  if (!x.device().is_cpu() || x.scalar_type() != torch::kFloat || p >= 1) return torch::dropout(x, p, training);
  return HashDropout::apply(x, static_cast<int64_t>(draw_key()), p);
}

}  // namespace deca::model
