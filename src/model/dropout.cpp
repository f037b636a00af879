#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <mutex>

#include "deca/model/layers.h"
#include "deca/model/parallel.h"

namespace deca::model {
namespace {

// One 64-bit key per mask, from LibTorch's default CPU generator.
uint64_t draw_key() {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(generator)->random64();
}

// SplitMix64's output function: a bijection whose output bits each depend on
// every input bit, so consecutive counters give independent-looking words.
inline uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

torch::Tensor dropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p <= 0) return x;
  if (!x.device().is_cpu() || x.scalar_type() != torch::kFloat || p >= 1) return torch::dropout(x, p, training);
  const uint64_t key = draw_key();
  const int64_t n = x.numel();
  auto mask = torch::empty(x.sizes(), x.options().requires_grad(false));
  float* m = mask.data_ptr<float>();
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  // Dropped when a uniform 32-bit word falls below p * 2^32: two words per hash.
  const auto threshold = static_cast<uint32_t>(std::min(4294967295.0, std::floor(p * 4294967296.0)));
  parallel_for(0, (n + 1) / 2, 32768, [&](int64_t from, int64_t to) {
    for (int64_t k = from; k < to; ++k) {
      const uint64_t r = mix(key + static_cast<uint64_t>(k) * 0x9e3779b97f4a7c15ULL);
      m[2 * k] = static_cast<uint32_t>(r) >= threshold ? scale : 0.0f;
      if (2 * k + 1 < n) m[2 * k + 1] = static_cast<uint32_t>(r >> 32) >= threshold ? scale : 0.0f;
    }
  });
  return x * mask;
}

}  // namespace deca::model
