// CPU decoding's output layer without its (B, V) logits. Per row of h, one
// pass over the packed weight gives the log-normaliser logsumexp(h W^T + b)
// and the `width` largest logits with their ids: what greedy and beam search
// need of the vocabulary distribution (the pointer's copies are added to a
// few entries afterwards, pointer.cpp). Torch-free; x86-64 kernels for
// AVX-512 and AVX2 chosen at run time, portable C++ elsewhere.
#pragma once

#include <cstdint>
#include <vector>

namespace deca::model::cpu {

enum class Isa { portable, avx2, avx512 };
// The widest this CPU runs.
Isa best_isa();
const char* to_string(Isa isa);

// W (V x K, row-major) as panels of 16 of its rows: panel p is K x 16, its
// column j row 16p + j of W, so that one load reads 16 outputs' weights for
// one k. The bias is padded to whole panels with -inf.
struct PackedRows {
  int64_t rows = 0, cols = 0;
  std::vector<float> panels, bias;
  int64_t panel_count() const { return (rows + 15) / 16; }
};
PackedRows pack_rows(const float* weight, const float* bias, int64_t rows, int64_t cols);

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
// [panel_begin, panel_end) of W, into `out`.
void score_panels(const PackedRows& w, const float* h, int64_t panel_begin, int64_t panel_end, RowScores& out,
                  Isa isa = best_isa());

// x . y over n floats.
float dot(const float* x, const float* y, int64_t n, Isa isa = best_isa());

}  // namespace deca::model::cpu
