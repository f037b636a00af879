// CPU decoding's output layer without its (B, V) logits. Per row of h, one
// pass over the packed weight gives the log-normaliser logsumexp(h W^T + b)
// and the `width` largest logits with their ids: what greedy and beam search
// need of the vocabulary distribution (the pointer's copies are added to a
// few entries afterwards, model/pointer.cpp). AVX-512 and AVX2 kernels beside
// a portable one (isa.h).
#pragma once

#include <cstdint>
#include <vector>

#include "deca/kernels/isa.h"

namespace deca::kernels {

// W (V x K, row-major) as panels of 16 of its rows: panel p is K x 16, its
// column j row 16p + j of W, so that one load reads 16 outputs' weights for
// one k. The bias is padded to whole panels with -inf.
// In bfloat16 (`bf16`, pack_rows_bf16) the panels are `pairs` instead: panel
// p is ceil(K / 2) x 16 lanes of 32 bits, lane j of pair i holding row
// 16p + j's weights 2i (low half) and 2i + 1 (high half) as bfloat16, as
// AVX512-BF16's dot product reads them. Those scores round W and h to
// bfloat16 and sum their products in fp32; the bias stays fp32.
struct PackedRows {
  int64_t rows = 0, cols = 0;
  bool bf16 = false;
  std::vector<float> panels, bias;
  std::vector<uint32_t> pairs;
  int64_t panel_count() const { return (rows + 15) / 16; }
  int64_t pair_count() const { return (cols + 1) / 2; }
};
PackedRows pack_rows(const float* weight, const float* bias, int64_t rows, int64_t cols);
PackedRows pack_rows_bf16(const float* weight, const float* bias, int64_t rows, int64_t cols);

// Per row of h, over the part of the vocabulary scored so far: the running
// maximum, the sum of exp(z - max), and the `width` largest logits (best
// first, ids -1 while fewer were seen).
struct RowScores {
  RowScores(int64_t rows, int64_t width);
  int64_t rows, width;
  std::vector<float> max, sum, top;  // (rows), (rows), (rows, width)
  std::vector<int32_t> ids;          // (rows, width)
  // Adds scores of a disjoint part of the vocabulary.
  void merge(const RowScores& other);
  float log_norm(int64_t row) const;
};

// Scores rows [0, out.rows) of h (rows x W.cols, row-major) against panels
// [panel_begin, panel_end) of W, into `out`. bf16 panels run AVX512-BF16
// where `isa` is avx512 and the CPU has it, portable C++ otherwise.
void score_panels(const PackedRows& w, const float* h, int64_t panel_begin, int64_t panel_end, RowScores& out,
                  Isa isa = active_isa());

// x . y over n floats.
float dot(const float* x, const float* y, int64_t n, Isa isa = active_isa());

}  // namespace deca::kernels
