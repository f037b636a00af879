// What the output layer's portable and x86 kernels share (internal to src/kernels).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

#include "deca/kernels/output_layer.h"

namespace deca::kernels {

constexpr int64_t kPanel = 16;
// A group of panels asks for the group this many panels ahead while the
// first block of rows runs: the weight streams from memory as the kernel
// computes (left to the hardware prefetcher, a step of a few rows waited on
// memory half the time; docs/benchmarks-history.md, seventh round).
constexpr int64_t kPrefetchPanels = 6;
constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

// Keeps `value` among the row's `width` largest (best first); equal values
// keep the earlier id, as the vocabulary is scanned in order.
inline void offer(float* top, int32_t* ids, int64_t width, float value, int32_t id) {
  if (!(value > top[width - 1])) return;
  int64_t i = width - 1;
  for (; i > 0 && value > top[i - 1]; --i) {
    top[i] = top[i - 1];
    ids[i] = ids[i - 1];
  }
  top[i] = value;
  ids[i] = id;
}

// A row's running maximum raised to cover a block's, its sum of exp(z - max)
// rescaled to match; returns the maximum, for the block's own terms.
inline float raise_max(float& run_max, float& run_sum, float block_max) {
  const float new_max = std::max(run_max, block_max);
  run_sum *= std::exp(run_max - new_max);
  run_max = new_max;
  return new_max;
}

// The x86 kernels (output_layer_x86.cpp); h as bf16 pairs for the bf16 one.
void score_avx2(const PackedRows& w, const float* h, int64_t panel_begin, int64_t panel_end, RowScores& s);
void score_avx512(const PackedRows& w, const float* h, int64_t panel_begin, int64_t panel_end, RowScores& s);
void score_avx512bf16(const PackedRows& w, const uint32_t* h, int64_t panel_begin, int64_t panel_end, RowScores& s);
float dot_avx2(const float* x, const float* y, int64_t n);
float dot_avx512(const float* x, const float* y, int64_t n);

}  // namespace deca::kernels
