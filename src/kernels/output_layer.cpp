#include <cstring>

#include "deca/kernels/bf16.h"
#include "output_layer_internal.h"
#include "target.h"

namespace deca::kernels {

namespace {

// The reference: the x86 kernels compute these sums with other roundings.
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

void score_portable_bf16(const PackedRows& w, const uint32_t* h, int64_t panel_begin, int64_t panel_end, RowScores& s) {
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

}  // namespace

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
#ifdef DECA_KERNELS_X86
    if (isa == Isa::avx512 && has_bf16_dot()) return score_avx512bf16(w, pairs.data(), panel_begin, panel_end, out);
#endif
    return score_portable_bf16(w, pairs.data(), panel_begin, panel_end, out);
  }
#ifdef DECA_KERNELS_X86
  if (isa == Isa::avx512) return score_avx512(w, h, panel_begin, panel_end, out);
  if (isa == Isa::avx2) return score_avx2(w, h, panel_begin, panel_end, out);
#endif
  score_portable(w, h, panel_begin, panel_end, out);
}

float dot(const float* x, const float* y, int64_t n, Isa isa) {
#ifdef DECA_KERNELS_X86
  if (isa == Isa::avx512) return dot_avx512(x, y, n);
  if (isa == Isa::avx2) return dot_avx2(x, y, n);
#endif
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += x[i] * y[i];
  return sum;
}

}  // namespace deca::kernels
