// The output layer's AVX2, AVX-512 and AVX512-BF16 kernels (output_layer.h),
// chosen at run time by score_panels.
#include "output_layer_internal.h"
#include "vector_math.h"

#ifdef DECA_KERNELS_X86
// GCC 12's AVX-512 intrinsics warn of their own `_mm512_undefined_ps()` (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

namespace deca::kernels {

namespace {

DECA_TARGET_AVX512 inline __m512 exp512(__m512 x) {
  exp_in_place<Math<f32x16, i32x16>>(reinterpret_cast<f32x16&>(x));
  return x;
}

DECA_TARGET_AVX2 inline __m256 exp256(__m256 x) {
  exp_in_place<Math<f32x8, i32x8>>(reinterpret_cast<f32x8&>(x));
  return x;
}

// Horizontal sum of 16 floats, through memory (GCC 12's _mm512_reduce_* and
// shuffles warn of an uninitialised temporary).
DECA_TARGET_AVX512 inline float hsum512(__m512 v) {
  alignas(64) float t[16];
  _mm512_store_ps(t, v);
  __m256 m = _mm256_add_ps(_mm256_load_ps(t), _mm256_load_ps(t + 8));
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  return _mm_cvtss_f32(_mm_add_ss(x, _mm_movehdup_ps(x)));
}

// The AVX-512 kernels' softmax sums, lane by lane: per row, 16 running
// maxima and 16 sums of exp(z - the lane's maximum), folded into the row's
// maximum and sum once a call. (A row's maximum and sum updated every 32
// logits took a horizontal maximum, a scalar exp and a horizontal sum each
// time.)
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
DECA_TARGET_AVX512 inline void update512(RowScores& s, Lanes& lanes, int64_t row, const __m512* z, int32_t first) {
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
  // A lane that saw only -inf (padding) gets exp512(NaN) = exp(-87.3) here;
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

// Rows [r0, r0 + R)'s accumulated products of P panels plus the bias, into s.
template <int R, int P>
DECA_TARGET_AVX512 inline void finish512(const __m512 (&acc)[R][P], const float* bias, int64_t r0, int32_t first,
                                         RowScores& s, Lanes& lanes) {
  __m512 b[P];
  for (int p = 0; p < P; ++p) b[p] = _mm512_loadu_ps(bias + p * kPanel);
  for (int r = 0; r < R; ++r) {
    __m512 z[P];
    for (int p = 0; p < P; ++p) z[p] = _mm512_add_ps(acc[r][p], b[p]);
    update512<P>(s, lanes, r0 + r, z, first);
  }
}

// Rows [r0, r0 + R) against P consecutive panels: R x P accumulators of 16.
template <int R, int P>
DECA_TARGET_AVX512 void block512(const float* wp, const float* bias, int64_t k_dim, const float* h, int64_t r0,
                                 int32_t first, RowScores& s, Lanes& lanes, const float* ahead) {
  __m512 acc[R][P];
  for (int r = 0; r < R; ++r)
    for (int p = 0; p < P; ++p) acc[r][p] = _mm512_setzero_ps();
  const float* hr = h + r0 * k_dim;
  for (int64_t k = 0; k < k_dim; ++k) {
    __m512 wv[P];
    for (int p = 0; p < P; ++p) wv[p] = _mm512_loadu_ps(wp + p * k_dim * kPanel + k * kPanel);
    if (ahead)  // a panel's k row is one cache line
      for (int p = 0; p < P; ++p)
        _mm_prefetch(reinterpret_cast<const char*>(ahead + p * k_dim * kPanel + k * kPanel), _MM_HINT_T1);
    for (int r = 0; r < R; ++r) {
      const __m512 x = _mm512_set1_ps(hr[r * k_dim + k]);
      for (int p = 0; p < P; ++p) acc[r][p] = _mm512_fmadd_ps(x, wv[p], acc[r][p]);
    }
  }
  finish512<R, P>(acc, bias, r0, first, s, lanes);
}

// block512 on bfloat16 pairs: each dot-product instruction adds two k's
// products per lane (twice block512's multiply-adds per instruction).
template <int R, int P>
DECA_TARGET_AVX512BF16 void block512bf16(const uint32_t* wp, const float* bias, int64_t pairs, const uint32_t* h,
                                         int64_t r0, int32_t first, RowScores& s, Lanes& lanes, const uint32_t* ahead) {
  __m512 acc[R][P];
  for (int r = 0; r < R; ++r)
    for (int p = 0; p < P; ++p) acc[r][p] = _mm512_setzero_ps();
  const uint32_t* hr = h + r0 * pairs;
  for (int64_t i = 0; i < pairs; ++i) {
    __m512bh wv[P];
    for (int p = 0; p < P; ++p) wv[p] = (__m512bh)_mm512_loadu_si512(wp + p * pairs * kPanel + i * kPanel);
    if (ahead)
      for (int p = 0; p < P; ++p)
        _mm_prefetch(reinterpret_cast<const char*>(ahead + p * pairs * kPanel + i * kPanel), _MM_HINT_T1);
    for (int r = 0; r < R; ++r) {
      const auto x = (__m512bh)_mm512_set1_epi32(static_cast<int>(hr[r * pairs + i]));
      for (int p = 0; p < P; ++p) acc[r][p] = _mm512_dpbf16_ps(acc[r][p], wv[p], x);
    }
  }
  finish512<R, P>(acc, bias, r0, first, s, lanes);
}

// Two panels (32 outputs) at a time: each weight load feeds up to 8 rows,
// each broadcast of h two panels. Weight is float (fp32 panels) or uint32_t
// (bf16 pairs, `stride` pairs per panel row).
template <class Weight, class Block>
DECA_INLINE inline void panels512(const Weight* panels, const float* all_bias, int64_t stride, int64_t panel_begin,
                                  int64_t panel_end, const Block& block) {
  for (int64_t p = panel_begin; p < panel_end; p += 2) {
    const Weight* wp = panels + p * stride * kPanel;
    const float* bias = all_bias + p * kPanel;
    const auto first = static_cast<int32_t>(p * kPanel);
    const bool two = p + 1 < panel_end;
    const Weight* ahead =
        two && p + kPrefetchPanels + 2 <= panel_end ? wp + kPrefetchPanels * stride * kPanel : nullptr;
    block(two, wp, bias, first, ahead);
  }
}

DECA_TARGET_AVX2 inline float hmax256(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

DECA_TARGET_AVX2 inline float hsum256(__m256 v) {
  __m128 m = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_add_ps(m, _mm_movehl_ps(m, m));
  m = _mm_add_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// Rows [r0, r0 + R) against one panel: R x 2 accumulators of 8. Every loop
// over the rows is unrolled: without that, GCC 12 kept acc in memory (the
// row loop after the k loop indexes it) and stored all 12 accumulators at
// every k, a store per multiply-add (docs/benchmarks.md, what is kept).
template <int R>
DECA_TARGET_AVX2 void block256(const float* wp, const float* bias, int64_t k_dim, const float* h, int64_t r0,
                               int32_t first, RowScores& s, const float* ahead) {
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

}  // namespace

DECA_TARGET_AVX512 void score_avx512(const PackedRows& w, const float* h, int64_t panel_begin, int64_t panel_end,
                                     RowScores& s) {
  const int64_t k_dim = w.cols;
  Lanes lanes(s.rows);
  panels512(w.panels.data(), w.bias.data(), k_dim, panel_begin, panel_end,
            [&](bool two, const float* wp, const float* bias, int32_t first, const float* ahead) DECA_INLINE {
              for_row_blocks<8>(s.rows, [&](auto rows, int64_t r0, bool first_block) DECA_INLINE {
                const float* prefetch = first_block ? ahead : nullptr;
                if (two)
                  block512<rows, 2>(wp, bias, k_dim, h, r0, first, s, lanes, prefetch);
                else
                  block512<rows, 1>(wp, bias, k_dim, h, r0, first, s, lanes, nullptr);
              });
            });
  lanes.fold_into(s);
}

DECA_TARGET_AVX512BF16 void score_avx512bf16(const PackedRows& w, const uint32_t* h, int64_t panel_begin,
                                             int64_t panel_end, RowScores& s) {
  const int64_t pairs = w.pair_count();
  Lanes lanes(s.rows);
  panels512(w.pairs.data(), w.bias.data(), pairs, panel_begin, panel_end,
            [&](bool two, const uint32_t* wp, const float* bias, int32_t first, const uint32_t* ahead) DECA_INLINE {
              for_row_blocks<8>(s.rows, [&](auto rows, int64_t r0, bool first_block) DECA_INLINE {
                const uint32_t* prefetch = first_block ? ahead : nullptr;
                if (two)
                  block512bf16<rows, 2>(wp, bias, pairs, h, r0, first, s, lanes, prefetch);
                else
                  block512bf16<rows, 1>(wp, bias, pairs, h, r0, first, s, lanes, nullptr);
              });
            });
  lanes.fold_into(s);
}

DECA_TARGET_AVX2 void score_avx2(const PackedRows& w, const float* h, int64_t panel_begin, int64_t panel_end,
                                 RowScores& s) {
  const int64_t k_dim = w.cols;
  for (int64_t p = panel_begin; p < panel_end; ++p) {
    const float* wp = w.panels.data() + p * k_dim * kPanel;
    const float* bias = w.bias.data() + p * kPanel;
    const auto first = static_cast<int32_t>(p * kPanel);
    const float* ahead = p + kPrefetchPanels < panel_end ? wp + kPrefetchPanels * k_dim * kPanel : nullptr;
    for_row_blocks<6>(s.rows, [&](auto rows, int64_t r0, bool first_block) DECA_INLINE {
      block256<rows>(wp, bias, k_dim, h, r0, first, s, first_block ? ahead : nullptr);
    });
  }
}

DECA_TARGET_AVX512 float dot_avx512(const float* x, const float* y, int64_t n) {
  __m512 a = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) a = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), a);
  float sum = hsum512(a);
  for (; i < n; ++i) sum += x[i] * y[i];
  return sum;
}

DECA_TARGET_AVX2 float dot_avx2(const float* x, const float* y, int64_t n) {
  __m256 a = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) a = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a);
  float sum = hsum256(a);
  for (; i < n; ++i) sum += x[i] * y[i];
  return sum;
}

}  // namespace deca::kernels

#endif  // DECA_KERNELS_X86
