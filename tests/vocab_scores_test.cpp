// The packed output-layer kernels of CPU decoding (deca/model/vocab_scores.h),
// every instruction set this CPU runs, against a float64 reference.
#include "deca/model/vocab_scores.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>
#include <numeric>
#include <random>

namespace {

using namespace deca::model::cpu;

std::vector<Isa> runnable() {
  std::vector<Isa> isas = {Isa::portable};
  if (best_isa() == Isa::avx2 || best_isa() == Isa::avx512) isas.push_back(Isa::avx2);
  if (best_isa() == Isa::avx512) isas.push_back(Isa::avx512);
  return isas;
}

float bf16_rounded(float x) { return from_bf16(to_bf16(x)); }

// Rows 1..13 (the kernels' row blocks and their remainders), vocabularies
// that are and are not whole panels, odd and even dimensions, the vocabulary
// scored in two parts and merged: log-normalisers and the `width` largest
// logits with their ids. bf16: against the reference on W and h rounded to
// bfloat16 (the kernels' products of those are exact, their sums fp32).
void expect_reference_scores(bool bf16) {
  std::mt19937 gen(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (const auto& [vocab, dim, rows, width] : std::vector<std::tuple<int64_t, int64_t, int64_t, int64_t>>{
           {1, 3, 1, 1}, {15, 1, 2, 3}, {16, 8, 7, 4}, {33, 5, 8, 2}, {1000, 32, 9, 5}, {2049, 200, 13, 8},
           {300, 24, 14, 3}, {500, 40, 29, 4}}) {
    std::vector<float> w(static_cast<size_t>(vocab * dim)), b(static_cast<size_t>(vocab)), h(static_cast<size_t>(rows * dim));
    for (auto& x : w) x = normal(gen) * 0.3f;
    for (auto& x : b) x = normal(gen);
    for (auto& x : h) x = normal(gen);
    const auto packed = bf16 ? pack_rows_bf16(w.data(), b.data(), vocab, dim) : pack_rows(w.data(), b.data(), vocab, dim);
    if (bf16) {
      for (auto& x : w) x = bf16_rounded(x);
      for (auto& x : h) x = bf16_rounded(x);
    }
    for (Isa isa : runnable()) {
      SCOPED_TRACE(std::string(to_string(isa)) + " V=" + std::to_string(vocab) + " K=" + std::to_string(dim) +
                   " rows=" + std::to_string(rows));
      RowScores scores(rows, width), rest(rows, width);
      const int64_t split = packed.panel_count() / 2;
      score_panels(packed, h.data(), 0, split, scores, isa);
      score_panels(packed, h.data(), split, packed.panel_count(), rest, isa);
      scores.merge(rest);
      for (int64_t r = 0; r < rows; ++r) {
        std::vector<double> z(static_cast<size_t>(vocab));
        for (int64_t v = 0; v < vocab; ++v) {
          double s = b[v];
          for (int64_t k = 0; k < dim; ++k) s += static_cast<double>(h[r * dim + k]) * w[v * dim + k];
          z[v] = s;
        }
        const double max = *std::max_element(z.begin(), z.end());
        double sum = 0;
        for (double x : z) sum += std::exp(x - max);
        EXPECT_NEAR(scores.log_norm(r), max + std::log(sum), 1e-4) << "row " << r;
        std::vector<int32_t> order(z.size());
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t c) { return z[a] > z[c]; });
        for (int64_t j = 0; j < std::min(width, vocab); ++j) {
          EXPECT_EQ(scores.ids[r * width + j], order[j]) << "row " << r << " rank " << j;
          EXPECT_NEAR(scores.top[r * width + j], z[order[j]], 1e-4) << "row " << r << " rank " << j;
        }
      }
    }
  }
}

TEST(VocabScores, LogNormaliserAndLargestLogitsEqualTheReference) { expect_reference_scores(false); }

// Portable C++ on every CPU; AVX512-BF16's dot product where this CPU has it.
TEST(VocabScores, Bf16ScoresEqualTheReferenceOnRoundedInputs) {
  if (!has_bf16_dot()) std::cout << "[ note     ] no AVX512-BF16 here: the portable bf16 kernel only\n";
  expect_reference_scores(true);
}

TEST(VocabScores, Bf16RoundsToNearestEven) {
  EXPECT_EQ(to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(to_bf16(-2.0f), 0xc000);
  EXPECT_EQ(to_bf16(1.0f + 0x1p-8f), 0x3f80);             // a tie, to the even 1.0
  EXPECT_EQ(to_bf16(1.0f + 3 * 0x1p-8f), 0x3f82);         // a tie, to the even 1 + 2^-6
  EXPECT_EQ(to_bf16(1.0f + 0x1p-8f + 0x1p-20f), 0x3f81);  // above the tie, up
  EXPECT_EQ(from_bf16(0x3f81), 1.0f + 0x1p-7f);
  EXPECT_TRUE(std::isnan(from_bf16(to_bf16(std::nanf("")))));
  EXPECT_TRUE(std::isinf(from_bf16(to_bf16(std::numeric_limits<float>::infinity()))));
}

TEST(VocabScores, DotProductsEqualTheReference) {
  std::mt19937 gen(9);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int64_t n : {0, 1, 7, 8, 16, 17, 200}) {
    std::vector<float> x(static_cast<size_t>(n)), y(static_cast<size_t>(n));
    for (auto& v : x) v = u(gen);
    for (auto& v : y) v = u(gen);
    double want = 0;
    for (int64_t i = 0; i < n; ++i) want += static_cast<double>(x[i]) * y[i];
    for (Isa isa : runnable()) EXPECT_NEAR(dot(x.data(), y.data(), n, isa), want, 1e-5) << to_string(isa) << " n=" << n;
  }
}

}  // namespace
