#include "deca/model/vocab_scores.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// GCC 12's AVX-512 intrinsics warn of their own `_mm512_undefined_ps()` (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#define DECA_X86 1
#define DECA_AVX2 __attribute__((target("avx2,fma")))
#define DECA_AVX512 __attribute__((target("avx512f,avx2,fma")))
#define DECA_AVX512BF16 __attribute__((target("avx512f,avx512bw,avx512bf16,avx2,fma")))
#endif

namespace deca::model::cpu {

namespace {

constexpr int64_t kPanel = 16;
// A group of panels asks for the group this many panels ahead while the
// first block of rows runs: the weight streams from memory as the kernel
// computes (left to the hardware prefetcher, a step of a few rows waited on
// memory half the time: 2.0 against 1.0 ms for 8 rows).
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

void score_portable(const PackedRows& w, const float* h, int64_t panel_begin, int64_t panel_end, RowScores& s) {
  const int64_t k_dim = w.cols, width = s.width;
  float z[kPanel];
  for (int64_t p = panel_begin; p < panel_end; ++p) {
    const float* wp = w.panels.data() + p * k_dim * kPanel;
    const float* bias = w.bias.data() + p * kPanel;
    for (int64_t r = 0; r < s.rows; ++r) {
      const float* hr = h + r * k_dim;
      std::copy(bias, bias + kPanel, z);
      for (int64_t k = 0; k < k_dim; ++k)
        for (int64_t j = 0; j < kPanel; ++j) z[j] += hr[k] * wp[k * kPanel + j];
      const float block_max = *std::max_element(z, z + kPanel);
      const float m = raise_max(s.max[r], s.sum[r], block_max);
      for (float v : z) s.sum[r] += std::exp(v - m);
      for (int64_t j = 0; j < kPanel; ++j)
        offer(&s.top[r * width], &s.ids[r * width], width, z[j], static_cast<int32_t>(p * kPanel + j));
    }
  }
}

// h's rows as bfloat16 pairs (rows x pair_count), the layout of the panels' lanes.
std::vector<uint32_t> bf16_pairs(const float* h, int64_t rows, int64_t cols) {
  const int64_t pairs = (cols + 1) / 2;
  std::vector<uint32_t> out(static_cast<size_t>(rows * pairs));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < pairs; ++i) {
      const float* x = h + r * cols + 2 * i;
      const uint32_t low = to_bf16(x[0]), high = 2 * i + 1 < cols ? to_bf16(x[1]) : 0;
      out[static_cast<size_t>(r * pairs + i)] = low | high << 16;
    }
  return out;
}

void score_portable_bf16(const PackedRows& w, const uint32_t* h, int64_t panel_begin, int64_t panel_end,
                         RowScores& s) {
  const int64_t pairs = w.pair_count(), width = s.width;
  auto low = [](uint32_t x) { return from_bf16(static_cast<uint16_t>(x & 0xffffu)); };
  auto high = [](uint32_t x) { return from_bf16(static_cast<uint16_t>(x >> 16)); };
  float z[kPanel];
  for (int64_t p = panel_begin; p < panel_end; ++p) {
    const uint32_t* wp = w.pairs.data() + p * pairs * kPanel;
    for (int64_t r = 0; r < s.rows; ++r) {
      const uint32_t* hr = h + r * pairs;
      std::fill(z, z + kPanel, 0.0f);
      for (int64_t i = 0; i < pairs; ++i)
        for (int64_t j = 0; j < kPanel; ++j)
          z[j] += low(hr[i]) * low(wp[i * kPanel + j]) + high(hr[i]) * high(wp[i * kPanel + j]);
      for (int64_t j = 0; j < kPanel; ++j) z[j] += w.bias[static_cast<size_t>(p * kPanel + j)];
      const float m = raise_max(s.max[r], s.sum[r], *std::max_element(z, z + kPanel));
      for (float v : z) s.sum[r] += std::exp(v - m);
      for (int64_t j = 0; j < kPanel; ++j)
        offer(&s.top[r * width], &s.ids[r * width], width, z[j], static_cast<int32_t>(p * kPanel + j));
    }
  }
}

#ifdef DECA_X86

// Horizontal sum of 16 floats, through memory (GCC 12's _mm512_reduce_* and
// shuffles warn of an uninitialised temporary).
DECA_AVX512 inline float hsum512(__m512 v) {
  alignas(64) float t[16];
  _mm512_store_ps(t, v);
  __m256 m = _mm256_add_ps(_mm256_load_ps(t), _mm256_load_ps(t + 8));
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  return _mm_cvtss_f32(_mm_add_ss(x, _mm_movehdup_ps(x)));
}

// exp(x) for x <= 0 (Cephes' single-precision polynomial; a few ulp), 0 below -87.3.
DECA_AVX512 inline __m512 exp512(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.3f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

// The AVX-512 kernels' softmax sums, lane by lane: per row, 16 running
// maxima and 16 sums of exp(z - the lane's maximum), folded into the row's
// maximum and sum once a call. (A row's maximum and sum updated every 32
// logits took a horizontal maximum, a scalar exp and a horizontal sum each
// time: 15 % of the kernel at 48 rows.)
struct Lanes {
  explicit Lanes(int64_t rows)
      : max(static_cast<size_t>(rows * kPanel), kMinusInf), sum(static_cast<size_t>(rows * kPanel), 0.0f) {}
  std::vector<float> max, sum;

  // Into s's running maximum and sum (lanes that saw only -inf add nothing).
  void fold_into(RowScores& s) const {
    for (int64_t r = 0; r < s.rows; ++r) {
      const float* m = &max[static_cast<size_t>(r * kPanel)];
      const float* e = &sum[static_cast<size_t>(r * kPanel)];
      const float row_max = *std::max_element(m, m + kPanel);
      if (row_max == kMinusInf) continue;
      float total = 0;
      for (int64_t j = 0; j < kPanel; ++j)
        if (m[j] != kMinusInf) total += e[j] * std::exp(m[j] - row_max);
      const float new_max = raise_max(s.max[r], s.sum[r], row_max);
      s.sum[r] += total * std::exp(row_max - new_max);
    }
  }
};

// One row's logits of P panels (16 each, ids from `first`).
template <int P>
DECA_AVX512 inline void update512(RowScores& s, Lanes& lanes, int64_t row, const __m512* z, int32_t first) {
  __m512 m = z[0];
  for (int p = 1; p < P; ++p) m = _mm512_max_ps(m, z[p]);
  float* lane_max = &lanes.max[static_cast<size_t>(row * kPanel)];
  float* lane_sum = &lanes.sum[static_cast<size_t>(row * kPanel)];
  __m512 run_max = _mm512_loadu_ps(lane_max), run_sum = _mm512_loadu_ps(lane_sum);
  if (_mm512_cmp_ps_mask(m, run_max, _CMP_GT_OQ)) {  // rare once a few hundred logits are in
    const __m512 new_max = _mm512_max_ps(run_max, m);
    // exp512 takes -inf - x as -87.3: a lane's first sum, 0, stays 0.
    run_sum = _mm512_mul_ps(run_sum, exp512(_mm512_sub_ps(run_max, new_max)));
    run_max = new_max;
    _mm512_storeu_ps(lane_max, run_max);
  }
  // A lane that saw only -inf (padding) gets exp512(NaN) = 2^-126 here;
  // fold_into skips it.
  for (int p = 0; p < P; ++p) run_sum = _mm512_add_ps(run_sum, exp512(_mm512_sub_ps(z[p], run_max)));
  _mm512_storeu_ps(lane_sum, run_sum);
  float* top = &s.top[row * s.width];
  int32_t* ids = &s.ids[row * s.width];
  for (int p = 0; p < P; ++p) {
    __mmask16 above = _mm512_cmp_ps_mask(z[p], _mm512_set1_ps(top[s.width - 1]), _CMP_GT_OQ);
    if (!above) continue;
    alignas(64) float v[kPanel];
    _mm512_store_ps(v, z[p]);
    for (; above; above &= static_cast<__mmask16>(above - 1)) {
      const int j = __builtin_ctz(above);
      offer(top, ids, s.width, v[j], first + p * static_cast<int32_t>(kPanel) + j);
    }
  }
}

// Rows [r0, r0 + R) against P consecutive panels: R x P accumulators of 16.
template <int R, int P>
DECA_AVX512 void block512(const float* wp, const float* bias, int64_t k_dim, const float* h, int64_t r0, int32_t first,
                          RowScores& s, Lanes& lanes, const float* ahead) {
  __m512 acc[R][P];
  for (int r = 0; r < R; ++r)
    for (int p = 0; p < P; ++p) acc[r][p] = _mm512_setzero_ps();
  const float* hr = h + r0 * k_dim;
  for (int64_t k = 0; k < k_dim; ++k) {
    __m512 wv[P];
    for (int p = 0; p < P; ++p) wv[p] = _mm512_loadu_ps(wp + p * k_dim * kPanel + k * kPanel);
    if (ahead)  // a panel's k row is one cache line
      for (int p = 0; p < P; ++p) _mm_prefetch(reinterpret_cast<const char*>(ahead + p * k_dim * kPanel + k * kPanel), _MM_HINT_T1);
    for (int r = 0; r < R; ++r) {
      const __m512 x = _mm512_set1_ps(hr[r * k_dim + k]);
      for (int p = 0; p < P; ++p) acc[r][p] = _mm512_fmadd_ps(x, wv[p], acc[r][p]);
    }
  }
  __m512 b[P];
  for (int p = 0; p < P; ++p) b[p] = _mm512_loadu_ps(bias + p * kPanel);
  for (int r = 0; r < R; ++r) {
    __m512 z[P];
    for (int p = 0; p < P; ++p) z[p] = _mm512_add_ps(acc[r][p], b[p]);
    update512<P>(s, lanes, r0 + r, z, first);
  }
}

// The rows in blocks of at most 8 as even as can be (a lone remainder row
// would cost half a block: a chain of dependent FMAs with no reuse).
// `ahead`: the panels to prefetch during the first block, or null.
template <int P>
DECA_AVX512 void rows512(const float* wp, const float* bias, int64_t k_dim, const float* h, int32_t first, RowScores& s,
                         Lanes& lanes, const float* ahead) {
  const int64_t blocks = (s.rows + 7) / 8;
  for (int64_t b = 0, r0 = 0; b < blocks; ++b, ahead = nullptr) {
    const int64_t n = s.rows / blocks + (b < s.rows % blocks ? 1 : 0);
    switch (n) {
      case 8: block512<8, P>(wp, bias, k_dim, h, r0, first, s, lanes, ahead); break;
      case 7: block512<7, P>(wp, bias, k_dim, h, r0, first, s, lanes, ahead); break;
      case 6: block512<6, P>(wp, bias, k_dim, h, r0, first, s, lanes, ahead); break;
      case 5: block512<5, P>(wp, bias, k_dim, h, r0, first, s, lanes, ahead); break;
      case 4: block512<4, P>(wp, bias, k_dim, h, r0, first, s, lanes, ahead); break;
      case 3: block512<3, P>(wp, bias, k_dim, h, r0, first, s, lanes, ahead); break;
      case 2: block512<2, P>(wp, bias, k_dim, h, r0, first, s, lanes, ahead); break;
      default: block512<1, P>(wp, bias, k_dim, h, r0, first, s, lanes, ahead); break;
    }
    r0 += n;
  }
}

// Two panels (32 outputs) at a time: each weight load feeds 8 rows, each
// broadcast of h two panels.
DECA_AVX512 void score_avx512(const PackedRows& w, const float* h, int64_t panel_begin, int64_t panel_end, RowScores& s) {
  const int64_t k_dim = w.cols;
  Lanes lanes(s.rows);
  for (int64_t p = panel_begin; p < panel_end; p += 2) {
    const float* wp = w.panels.data() + p * k_dim * kPanel;
    const float* bias = w.bias.data() + p * kPanel;
    const auto first = static_cast<int32_t>(p * kPanel);
    const float* ahead = p + kPrefetchPanels + 2 <= panel_end ? wp + kPrefetchPanels * k_dim * kPanel : nullptr;
    if (p + 1 < panel_end) rows512<2>(wp, bias, k_dim, h, first, s, lanes, ahead);
    else rows512<1>(wp, bias, k_dim, h, first, s, lanes, nullptr);
  }
  lanes.fold_into(s);
}

// block512 on bfloat16 pairs: each dot-product instruction adds two k's
// products per lane (twice block512's multiply-adds per instruction).
template <int R, int P>
DECA_AVX512BF16 void block512bf16(const uint32_t* wp, const float* bias, int64_t pairs, const uint32_t* h, int64_t r0,
                                  int32_t first, RowScores& s, Lanes& lanes, const uint32_t* ahead) {
  __m512 acc[R][P];
  for (int r = 0; r < R; ++r)
    for (int p = 0; p < P; ++p) acc[r][p] = _mm512_setzero_ps();
  const uint32_t* hr = h + r0 * pairs;
  for (int64_t i = 0; i < pairs; ++i) {
    __m512bh wv[P];
    for (int p = 0; p < P; ++p) wv[p] = (__m512bh)_mm512_loadu_si512(wp + p * pairs * kPanel + i * kPanel);
    if (ahead)
      for (int p = 0; p < P; ++p) _mm_prefetch(reinterpret_cast<const char*>(ahead + p * pairs * kPanel + i * kPanel), _MM_HINT_T1);
    for (int r = 0; r < R; ++r) {
      const auto x = (__m512bh)_mm512_set1_epi32(static_cast<int>(hr[r * pairs + i]));
      for (int p = 0; p < P; ++p) acc[r][p] = _mm512_dpbf16_ps(acc[r][p], wv[p], x);
    }
  }
  __m512 b[P];
  for (int p = 0; p < P; ++p) b[p] = _mm512_loadu_ps(bias + p * kPanel);
  for (int r = 0; r < R; ++r) {
    __m512 z[P];
    for (int p = 0; p < P; ++p) z[p] = _mm512_add_ps(acc[r][p], b[p]);
    update512<P>(s, lanes, r0 + r, z, first);
  }
}

template <int P>
DECA_AVX512BF16 void rows512bf16(const uint32_t* wp, const float* bias, int64_t pairs, const uint32_t* h, int32_t first,
                                 RowScores& s, Lanes& lanes, const uint32_t* ahead) {
  const int64_t blocks = (s.rows + 7) / 8;  // as rows512
  for (int64_t b = 0, r0 = 0; b < blocks; ++b, ahead = nullptr) {
    const int64_t n = s.rows / blocks + (b < s.rows % blocks ? 1 : 0);
    switch (n) {
      case 8: block512bf16<8, P>(wp, bias, pairs, h, r0, first, s, lanes, ahead); break;
      case 7: block512bf16<7, P>(wp, bias, pairs, h, r0, first, s, lanes, ahead); break;
      case 6: block512bf16<6, P>(wp, bias, pairs, h, r0, first, s, lanes, ahead); break;
      case 5: block512bf16<5, P>(wp, bias, pairs, h, r0, first, s, lanes, ahead); break;
      case 4: block512bf16<4, P>(wp, bias, pairs, h, r0, first, s, lanes, ahead); break;
      case 3: block512bf16<3, P>(wp, bias, pairs, h, r0, first, s, lanes, ahead); break;
      case 2: block512bf16<2, P>(wp, bias, pairs, h, r0, first, s, lanes, ahead); break;
      default: block512bf16<1, P>(wp, bias, pairs, h, r0, first, s, lanes, ahead); break;
    }
    r0 += n;
  }
}

DECA_AVX512BF16 void score_avx512bf16(const PackedRows& w, const uint32_t* h, int64_t panel_begin, int64_t panel_end,
                                      RowScores& s) {
  const int64_t pairs = w.pair_count();
  Lanes lanes(s.rows);
  for (int64_t p = panel_begin; p < panel_end; p += 2) {
    const uint32_t* wp = w.pairs.data() + p * pairs * kPanel;
    const float* bias = w.bias.data() + p * kPanel;
    const auto first = static_cast<int32_t>(p * kPanel);
    const uint32_t* ahead = p + kPrefetchPanels + 2 <= panel_end ? wp + kPrefetchPanels * pairs * kPanel : nullptr;
    if (p + 1 < panel_end) rows512bf16<2>(wp, bias, pairs, h, first, s, lanes, ahead);
    else rows512bf16<1>(wp, bias, pairs, h, first, s, lanes, nullptr);
  }
  lanes.fold_into(s);
}

DECA_AVX512 float dot512(const float* x, const float* y, int64_t n) {
  __m512 a = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) a = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), a);
  float sum = hsum512(a);
  for (; i < n; ++i) sum += x[i] * y[i];
  return sum;
}

DECA_AVX2 inline float hmax256(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

DECA_AVX2 inline float hsum256(__m256 v) {
  __m128 m = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_add_ps(m, _mm_movehl_ps(m, m));
  m = _mm_add_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// exp512's polynomial, 2^n put into the exponent bits.
DECA_AVX2 inline __m256 exp256(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-87.3f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

// Rows [r0, r0 + R) against one panel: R x 2 accumulators of 8. Every loop
// over the rows is unrolled: without that, GCC 12 kept acc in memory (the
// row loop after the k loop indexes it) and stored all 12 accumulators at
// every k, a store per multiply-add (greedy SQuAD decoding on an AVX2 Zen 3:
// 44.9 s, unrolled 29.9 s; docs/benchmarks.md).
template <int R>
DECA_AVX2 void block256(const float* wp, const float* bias, int64_t k_dim, const float* h, int64_t r0, int32_t first,
                        RowScores& s, const float* ahead) {
  __m256 acc[R][2];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  const float* hr = h + r0 * k_dim;
  for (int64_t k = 0; k < k_dim; ++k) {
    const __m256 w0 = _mm256_loadu_ps(wp + k * kPanel), w1 = _mm256_loadu_ps(wp + k * kPanel + 8);
    if (ahead) _mm_prefetch(reinterpret_cast<const char*>(ahead + k * kPanel), _MM_HINT_T1);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256 x = _mm256_broadcast_ss(hr + r * k_dim + k);
      acc[r][0] = _mm256_fmadd_ps(x, w0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(x, w1, acc[r][1]);
    }
  }
  const __m256 b0 = _mm256_loadu_ps(bias), b1 = _mm256_loadu_ps(bias + 8);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    const int64_t row = r0 + r;
    const __m256 z0 = _mm256_add_ps(acc[r][0], b0), z1 = _mm256_add_ps(acc[r][1], b1);
    const __m256 nm = _mm256_set1_ps(raise_max(s.max[row], s.sum[row], hmax256(_mm256_max_ps(z0, z1))));
    s.sum[row] += hsum256(_mm256_add_ps(exp256(_mm256_sub_ps(z0, nm)), exp256(_mm256_sub_ps(z1, nm))));
    float* top = &s.top[row * s.width];
    int32_t* ids = &s.ids[row * s.width];
    const __m256 threshold = _mm256_set1_ps(top[s.width - 1]);
    unsigned above = static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(z0, threshold, _CMP_GT_OQ))) |
                     static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(z1, threshold, _CMP_GT_OQ))) << 8;
    if (!above) continue;
    alignas(32) float v[kPanel];
    _mm256_store_ps(v, z0);
    _mm256_store_ps(v + 8, z1);
    for (; above; above &= above - 1) {
      const int j = __builtin_ctz(above);
      offer(top, ids, s.width, v[j], first + j);
    }
  }
}

DECA_AVX2 void score_avx2(const PackedRows& w, const float* h, int64_t panel_begin, int64_t panel_end, RowScores& s) {
  constexpr int R = 6;
  const int64_t k_dim = w.cols;
  for (int64_t p = panel_begin; p < panel_end; ++p) {
    const float* wp = w.panels.data() + p * k_dim * kPanel;
    const float* bias = w.bias.data() + p * kPanel;
    const auto first = static_cast<int32_t>(p * kPanel);
    const float* ahead = p + kPrefetchPanels < panel_end ? wp + kPrefetchPanels * k_dim * kPanel : nullptr;
    const int64_t blocks = (s.rows + R - 1) / R;  // as even as can be, as rows512
    for (int64_t b = 0, r0 = 0; b < blocks; ++b, ahead = nullptr) {
      const int64_t n = s.rows / blocks + (b < s.rows % blocks ? 1 : 0);
      switch (n) {
        case 6: block256<6>(wp, bias, k_dim, h, r0, first, s, ahead); break;
        case 5: block256<5>(wp, bias, k_dim, h, r0, first, s, ahead); break;
        case 4: block256<4>(wp, bias, k_dim, h, r0, first, s, ahead); break;
        case 3: block256<3>(wp, bias, k_dim, h, r0, first, s, ahead); break;
        case 2: block256<2>(wp, bias, k_dim, h, r0, first, s, ahead); break;
        default: block256<1>(wp, bias, k_dim, h, r0, first, s, ahead); break;
      }
      r0 += n;
    }
  }
}

DECA_AVX2 float dot256(const float* x, const float* y, int64_t n) {
  __m256 a = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) a = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a);
  float sum = hsum256(a);
  for (; i < n; ++i) sum += x[i] * y[i];
  return sum;
}

#endif  // DECA_X86

}  // namespace

Isa best_isa() {
#ifdef DECA_X86
  static const Isa best = __builtin_cpu_supports("avx512f")                                       ? Isa::avx512
                          : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? Isa::avx2
                                                                                            : Isa::portable;
  return best;
#else
  return Isa::portable;
#endif
}

bool has_bf16_dot() {
#ifdef DECA_X86
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512bf16");
  return has;
#else
  return false;
#endif
}

uint16_t to_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if (std::isnan(x)) return static_cast<uint16_t>((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

float from_bf16(uint16_t bits) {
  const uint32_t u = static_cast<uint32_t>(bits) << 16;
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

const char* to_string(Isa isa) {
  switch (isa) {
    case Isa::avx512: return "avx512";
    case Isa::avx2: return "avx2";
    default: return "portable";
  }
}

PackedRows pack_rows(const float* weight, const float* bias, int64_t rows, int64_t cols) {
  PackedRows w;
  w.rows = rows;
  w.cols = cols;
  const int64_t panels = w.panel_count();
  w.panels.resize(static_cast<size_t>(panels * cols * kPanel));
  w.bias.assign(static_cast<size_t>(panels * kPanel), kMinusInf);
  // Written in order, read from 16 rows at a time (a transpose of 16 x cols).
  for (int64_t p = 0; p < panels; ++p) {
    float* out = w.panels.data() + p * cols * kPanel;
    const int64_t n = std::min(kPanel, rows - p * kPanel);
    const float* in = weight + p * kPanel * cols;
    for (int64_t k = 0; k < cols; ++k, out += kPanel) {
      for (int64_t j = 0; j < n; ++j) out[j] = in[j * cols + k];
      for (int64_t j = n; j < kPanel; ++j) out[j] = 0.0f;
    }
  }
  for (int64_t v = 0; v < rows; ++v) w.bias[static_cast<size_t>(v)] = bias ? bias[v] : 0.0f;
  return w;
}

PackedRows pack_rows_bf16(const float* weight, const float* bias, int64_t rows, int64_t cols) {
  PackedRows w;
  w.rows = rows;
  w.cols = cols;
  w.bf16 = true;
  const int64_t panels = w.panel_count(), pairs = w.pair_count();
  w.pairs.assign(static_cast<size_t>(panels * pairs * kPanel), 0u);
  w.bias.assign(static_cast<size_t>(panels * kPanel), kMinusInf);
  for (int64_t v = 0; v < rows; ++v) {
    uint32_t* out = w.pairs.data() + (v / kPanel) * pairs * kPanel + v % kPanel;
    const float* in = weight + v * cols;
    for (int64_t i = 0; i < pairs; ++i) {
      const uint32_t low = to_bf16(in[2 * i]), high = 2 * i + 1 < cols ? to_bf16(in[2 * i + 1]) : 0;
      out[i * kPanel] = low | high << 16;
    }
    w.bias[static_cast<size_t>(v)] = bias ? bias[v] : 0.0f;
  }
  return w;
}

RowScores::RowScores(int64_t rows_, int64_t width_)
    : rows(rows_),
      width(width_),
      max(static_cast<size_t>(rows_), kMinusInf),
      sum(static_cast<size_t>(rows_), 0.0f),
      top(static_cast<size_t>(rows_ * width_), kMinusInf),
      ids(static_cast<size_t>(rows_ * width_), -1) {}

void RowScores::merge(const RowScores& o) {
  for (int64_t r = 0; r < rows; ++r) {
    if (o.max[r] == kMinusInf) continue;
    const float m = raise_max(max[r], sum[r], o.max[r]);
    sum[r] += o.sum[r] * std::exp(o.max[r] - m);
    for (int64_t j = 0; j < width && o.ids[r * width + j] >= 0; ++j)
      offer(&top[r * width], &ids[r * width], width, o.top[r * width + j], o.ids[r * width + j]);
  }
}

float RowScores::log_norm(int64_t row) const { return max[row] + std::log(sum[row]); }

void score_panels(const PackedRows& w, const float* h, int64_t panel_begin, int64_t panel_end, RowScores& out,
                  Isa isa) {
  if (w.bf16) {
    const auto pairs = bf16_pairs(h, out.rows, w.cols);
#ifdef DECA_X86
    if (isa == Isa::avx512 && has_bf16_dot()) return score_avx512bf16(w, pairs.data(), panel_begin, panel_end, out);
#endif
    return score_portable_bf16(w, pairs.data(), panel_begin, panel_end, out);
  }
#ifdef DECA_X86
  if (isa == Isa::avx512) return score_avx512(w, h, panel_begin, panel_end, out);
  if (isa == Isa::avx2) return score_avx2(w, h, panel_begin, panel_end, out);
#endif
  score_portable(w, h, panel_begin, panel_end, out);
}

float dot(const float* x, const float* y, int64_t n, Isa isa) {
#ifdef DECA_X86
  if (isa == Isa::avx512) return dot512(x, y, n);
  if (isa == Isa::avx2) return dot256(x, y, n);
#endif
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += x[i] * y[i];
  return sum;
}

}  // namespace deca::model::cpu
