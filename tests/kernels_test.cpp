// deca's CPU kernels (deca/kernels), each on every instruction set this CPU
// runs (portable, avx2, avx512: runnable_isas), against float64 references;
// the element-wise kernels also bit for bit against their portable variant.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <iostream>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>

#include "deca/core/error.h"
#include "deca/kernels/adam_update.h"
#include "deca/kernels/bf16.h"
#include "deca/kernels/dropout_mask.h"
#include "deca/kernels/isa.h"
#include "deca/kernels/lstm_cell.h"
#include "deca/kernels/output_layer.h"
#include "deca/kernels/parallel.h"

namespace {

using namespace deca::kernels;

class KernelTest : public ::testing::TestWithParam<Isa> {};

std::string isa_name(const ::testing::TestParamInfo<Isa>& info) { return to_string(info.param); }

TEST(Isa, TheVariantsTestedHereAreNamed) {
  std::cout << "[ isa      ] this CPU runs:";
  for (Isa isa : runnable_isas()) std::cout << ' ' << to_string(isa);
  std::cout << " (active: " << to_string(active_isa()) << (has_bf16_dot() ? ", with AVX512-BF16" : "") << ")\n";
  EXPECT_EQ(runnable_isas().front(), Isa::portable);
  EXPECT_EQ(runnable_isas().back(), cpu_isa());
  EXPECT_LE(active_isa(), cpu_isa());
}

// DECA_ISA forces a lower instruction set; a higher or unknown one is an error naming the variable.
TEST(Isa, DecaIsaForcesALowerOneAndNamesItsMistakes) {
  EXPECT_EQ(isa_forced_by(nullptr), cpu_isa());
  EXPECT_EQ(isa_forced_by(""), cpu_isa());
  EXPECT_EQ(isa_forced_by("portable"), Isa::portable);
  for (Isa isa : runnable_isas()) EXPECT_EQ(isa_forced_by(to_string(isa)), isa);
  try {
    isa_forced_by("avx9");
    FAIL() << "no error";
  } catch (const deca::Error& e) {
    EXPECT_STREQ(e.what(), "DECA_ISA=avx9: expected portable, avx2 or avx512");
  }
  if (cpu_isa() != Isa::avx512) {
    try {
      isa_forced_by("avx512");
      FAIL() << "no error";
    } catch (const deca::Error& e) {
      EXPECT_NE(std::string(e.what()).find("this CPU runs at most"), std::string::npos) << e.what();
    }
  }
}

float bf16_rounded(float x) { return from_bf16(to_bf16(x)); }

// Rows 1..29 (the kernels' row blocks and their remainders), vocabularies
// that are and are not whole panels, odd and even dimensions, the vocabulary
// scored in two parts and merged: log-normalisers and the `width` largest
// logits with their ids. bf16: against the reference on W and h rounded to
// bfloat16 (the kernels' products of those are exact, their sums fp32).
void expect_reference_scores(Isa isa, bool bf16) {
  std::mt19937 gen(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (const auto& [vocab, dim, rows, width] :
       std::vector<std::tuple<int64_t, int64_t, int64_t, int64_t>>{{1, 3, 1, 1},
                                                                   {15, 1, 2, 3},
                                                                   {16, 8, 7, 4},
                                                                   {33, 5, 8, 2},
                                                                   {1000, 32, 9, 5},
                                                                   {2049, 200, 13, 8},
                                                                   {300, 24, 14, 3},
                                                                   {500, 40, 29, 4}}) {
    std::vector<float> w(static_cast<size_t>(vocab * dim)), b(static_cast<size_t>(vocab)),
        h(static_cast<size_t>(rows * dim));
    for (auto& x : w) x = normal(gen) * 0.3f;
    for (auto& x : b) x = normal(gen);
    for (auto& x : h) x = normal(gen);
    const auto packed =
        bf16 ? pack_rows_bf16(w.data(), b.data(), vocab, dim) : pack_rows(w.data(), b.data(), vocab, dim);
    if (bf16) {
      for (auto& x : w) x = bf16_rounded(x);
      for (auto& x : h) x = bf16_rounded(x);
    }
    SCOPED_TRACE("V=" + std::to_string(vocab) + " K=" + std::to_string(dim) + " rows=" + std::to_string(rows));
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

TEST_P(KernelTest, OutputLayerScoresEqualTheReference) { expect_reference_scores(GetParam(), false); }

// Portable C++ on every CPU; AVX512-BF16's dot product with avx512 where this CPU has it.
TEST_P(KernelTest, OutputLayerBf16ScoresEqualTheReferenceOnRoundedInputs) {
  if (GetParam() == Isa::avx512 && !has_bf16_dot())
    std::cout << "[ note     ] no AVX512-BF16 here: the portable bf16 kernel only\n";
  expect_reference_scores(GetParam(), true);
}

TEST_P(KernelTest, DotProductsEqualTheReference) {
  std::mt19937 gen(9);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int64_t n : {0, 1, 7, 8, 16, 17, 200}) {
    std::vector<float> x(static_cast<size_t>(n)), y(static_cast<size_t>(n));
    for (auto& v : x) v = u(gen);
    for (auto& v : y) v = u(gen);
    double want = 0;
    for (int64_t i = 0; i < n; ++i) want += static_cast<double>(x[i]) * y[i];
    EXPECT_NEAR(dot(x.data(), y.data(), n, GetParam()), want, 1e-5) << "n=" << n;
  }
}

TEST(Bf16, RoundsToNearestEven) {
  EXPECT_EQ(to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(to_bf16(-2.0f), 0xc000);
  EXPECT_EQ(to_bf16(1.0f + 0x1p-8f), 0x3f80);             // a tie, to the even 1.0
  EXPECT_EQ(to_bf16(1.0f + 3 * 0x1p-8f), 0x3f82);         // a tie, to the even 1 + 2^-6
  EXPECT_EQ(to_bf16(1.0f + 0x1p-8f + 0x1p-20f), 0x3f81);  // above the tie, up
  EXPECT_EQ(from_bf16(0x3f81), 1.0f + 0x1p-7f);
  EXPECT_TRUE(std::isnan(from_bf16(to_bf16(std::nanf("")))));
  EXPECT_TRUE(std::isinf(from_bf16(to_bf16(std::numeric_limits<float>::infinity()))));
}

// The LSTM cell's element-wise step (deca's vectorised exp) against a float64
// reference, saturating inputs included, forward and backward, with and
// without the outside gradients; and the same bits as the portable variant.
TEST_P(KernelTest, LstmCellEqualsTheReference) {
  const int64_t h = 37;  // not a whole vector
  for (bool outside : {true, false}) {
    std::vector<float> g4(4 * h), c_prev(h), c(h), out(h), dh(h), dc(h), gh(h), gc(h), d4(4 * h);
    for (int64_t j = 0; j < 4 * h; ++j) g4[j] = j % 9 == 0 ? (j % 2 ? 300.0f : -300.0f) : std::sin(0.7f * j) * 6.0f;
    for (int64_t j = 0; j < h; ++j) {
      c_prev[j] = std::cos(0.3f * j) * 4.0f;
      dh[j] = std::sin(0.2f * j);
      dc[j] = gh[j] = gc[j] = 0.1f * std::cos(0.5f * j);
    }
    const auto pre = g4;
    const auto dc_before = dc;
    auto run = [&](Isa isa, std::vector<float>& g4_, std::vector<float>& c_, std::vector<float>& out_,
                   std::vector<float>& dc_, std::vector<float>& d4_) {
      g4_ = pre;
      dc_ = dc_before;
      lstm_cell(g4_.data(), c_prev.data(), c_.data(), out_.data(), h, isa);
      lstm_cell_backward(g4_.data(), c_.data(), c_prev.data(), outside ? gh.data() : nullptr,
                         outside ? gc.data() : nullptr, dh.data(), dc_.data(), d4_.data(), h, isa);
    };
    run(GetParam(), g4, c, out, dc, d4);
    auto sig = [](double x) { return 1.0 / (1.0 + std::exp(-x)); };
    for (int64_t j = 0; j < h; ++j) {
      const double i = sig(pre[j]), f = sig(pre[h + j]), g = std::tanh(double(pre[2 * h + j])), o = sig(pre[3 * h + j]);
      const double cell = f * c_prev[j] + i * g, tc = std::tanh(cell);
      EXPECT_NEAR(c[j], cell, 1e-5) << j;
      EXPECT_NEAR(out[j], o * tc, 1e-6) << j;
      const double dhj = dh[j] + (outside ? gh[j] : 0),
                   dcj = dhj * o * (1 - tc * tc) + dc_before[j] + (outside ? gc[j] : 0);
      EXPECT_NEAR(d4[j], dcj * g * i * (1 - i), 1e-6) << j;
      EXPECT_NEAR(d4[h + j], dcj * c_prev[j] * f * (1 - f), 1e-6) << j;
      EXPECT_NEAR(d4[2 * h + j], dcj * i * (1 - g * g), 1e-6) << j;
      EXPECT_NEAR(d4[3 * h + j], dhj * tc * o * (1 - o), 1e-6) << j;
      EXPECT_NEAR(dc[j], dcj * f, 1e-6) << j;
    }
    std::vector<float> g4p(4 * h), cp(h), outp(h), dcp(h), d4p(4 * h);
    run(Isa::portable, g4p, cp, outp, dcp, d4p);
    EXPECT_EQ(g4, g4p);
    EXPECT_EQ(c, cp);
    EXPECT_EQ(out, outp);
    EXPECT_EQ(dc, dcp);
    EXPECT_EQ(d4, d4p);
  }
}

// Dropout's mask: the share dropped is p, kept elements are scaled by
// 1 / (1 - p), backward applies the same mask, and the bits are the portable
// variant's (and so the thread count's and the CPU's no matter).
TEST_P(KernelTest, DropoutMaskFollowsKeyAndProbability) {
  const int64_t n = 100003;  // not whole blocks of 64
  std::vector<float> x(n), y(n), back(n), ones(n, 1.0f);
  for (int64_t i = 0; i < n; ++i) x[i] = 0.5f + static_cast<float>(i % 7);
  std::vector<uint64_t> bits((n + 63) / 64), portable_bits(bits.size());
  for (double p : {0.1, 0.3, 0.5}) {
    mask_forward(x.data(), y.data(), bits.data(), n, 42, p, GetParam());
    int64_t kept = 0;
    for (int64_t i = 0; i < n; ++i) {
      const bool bit = (bits[i / 64] >> (i % 64)) & 1;
      kept += bit;
      ASSERT_EQ(y[i], bit ? x[i] * keep_scale(p) : 0.0f) << i;
    }
    EXPECT_NEAR(static_cast<double>(kept) / n, 1 - p, 0.005) << "p " << p;
    mask_backward(ones.data(), back.data(), bits.data(), n, p, GetParam());
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(back[i], y[i] != 0 ? keep_scale(p) : 0.0f) << i;
    std::vector<float> yp(n);
    mask_forward(x.data(), yp.data(), portable_bits.data(), n, 42, p, Isa::portable);
    EXPECT_EQ(bits, portable_bits);
    EXPECT_EQ(y, yp);
  }
  mask_forward(x.data(), y.data(), portable_bits.data(), n, 43, 0.3, GetParam());
  EXPECT_NE(bits, portable_bits);  // another key, another mask
}

// Adam's update against torch.optim.Adam's formulas in float64 (fp32
// moments); rows without a gradient decay; bf16 moments round stochastically
// to one of the two neighbouring bfloat16 values; every ISA gives the
// portable variant's bits.
TEST_P(KernelTest, AdamUpdateEqualsTheReference) {
  const int64_t n = 1000;
  std::mt19937 gen(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w0(n), m0(n), v0(n), g(n);
  for (int64_t k = 0; k < n; ++k) {
    w0[k] = normal(gen);
    m0[k] = normal(gen) * 0.1f;
    v0[k] = std::abs(normal(gen)) * 0.01f;
    g[k] = normal(gen);
  }
  const double lr = 1e-3, b1 = 0.9, b2 = 0.98, eps = 1e-9, scale = 0.5, t = 7;
  auto options = [&](std::vector<float>& w, void* m, void* v, bool bf16) {
    AdamUpdate a;
    a.weight = w.data();
    a.exp_avg = m;
    a.exp_avg_sq = v;
    a.bf16_moments = bf16;
    a.beta1 = static_cast<float>(b1);
    a.beta2 = static_cast<float>(b2);
    a.eps = static_cast<float>(eps);
    a.step_size = static_cast<float>(lr / (1 - std::pow(b1, t)));
    a.inv_sqrt_correction2 = static_cast<float>(1 / std::sqrt(1 - std::pow(b2, t)));
    a.grad_scale = static_cast<float>(scale);
    a.rounding_key = 99;
    return a;
  };
  for (bool with_grad : {true, false}) {
    SCOPED_TRACE(with_grad ? "gradient" : "no gradient");
    auto w = w0, m = m0, v = v0;
    adam_update(options(w, m.data(), v.data(), false), 0, n, with_grad ? g.data() : nullptr, GetParam());
    for (int64_t k = 0; k < n; ++k) {
      const double gk = with_grad ? g[k] * scale : 0.0;
      const double mk = b1 * m0[k] + (1 - b1) * gk, vk = b2 * v0[k] + (1 - b2) * gk * gk;
      const double want =
          w0[k] - lr / (1 - std::pow(b1, t)) * mk / (std::sqrt(vk) / std::sqrt(1 - std::pow(b2, t)) + eps);
      ASSERT_NEAR(m[k], mk, 1e-6) << k;
      ASSERT_NEAR(v[k], vk, 1e-6) << k;
      ASSERT_NEAR(w[k], want, 1e-6) << k;
    }
    auto wp = w0, mp = m0, vp = v0;
    adam_update(options(wp, mp.data(), vp.data(), false), 0, n, with_grad ? g.data() : nullptr, Isa::portable);
    EXPECT_EQ(w, wp);
    EXPECT_EQ(m, mp);
    EXPECT_EQ(v, vp);

    std::vector<uint16_t> m16(n), v16(n);
    for (int64_t k = 0; k < n; ++k) {
      m16[k] = to_bf16(m0[k]);
      v16[k] = to_bf16(v0[k]);
    }
    auto m16p = m16, v16p = v16;
    auto wb = w0, wbp = w0;
    adam_update(options(wb, m16.data(), v16.data(), true), 0, n, with_grad ? g.data() : nullptr, GetParam());
    adam_update(options(wbp, m16p.data(), v16p.data(), true), 0, n, with_grad ? g.data() : nullptr, Isa::portable);
    EXPECT_EQ(wb, wbp);
    EXPECT_EQ(m16, m16p);
    EXPECT_EQ(v16, v16p);
    const float b1f = static_cast<float>(b1);
    for (int64_t k = 0; k < n; ++k) {
      const float gk = with_grad ? g[k] * static_cast<float>(scale) : 0.0f;
      const float mk = b1f * from_bf16(to_bf16(m0[k])) + (1 - b1f) * gk;
      uint32_t bits;
      std::memcpy(&bits, &mk, sizeof bits);
      const auto truncated = static_cast<uint16_t>(bits >> 16);
      ASSERT_TRUE(m16[k] == truncated || m16[k] == truncated + 1) << k;  // one of mk's two bfloat16 neighbours
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryIsaThisCpuRuns, KernelTest, ::testing::ValuesIn(runnable_isas()), isa_name);

// parallel_for covers its range once in chunks of at least `grain`, runs
// nested calls inline, and rethrows a chunk's exception.
TEST(ParallelFor, CoversTheRangeOnceAndRethrows) {
  for (int64_t grain : {1, 7, 1000, 100000}) {
    std::vector<std::atomic<int>> seen(10000);
    parallel_for(3, 10000, grain, [&](int64_t from, int64_t to) {
      for (int64_t i = from; i < to; ++i) ++seen[static_cast<size_t>(i)];
      if (grain < 9997)  // the outer loop runs in parallel: a nested one runs inline
        parallel_for(0, 100, 1, [&](int64_t a, int64_t b) { EXPECT_TRUE(a == 0 && b == 100); });
    });
    for (int64_t i = 0; i < 10000; ++i) ASSERT_EQ(seen[static_cast<size_t>(i)].load(), i >= 3 ? 1 : 0) << i;
  }
  EXPECT_THROW(parallel_for(0, 1000, 1,
                            [](int64_t from, int64_t) {
                              if (from == 0) throw std::runtime_error("chunk 0");
                            }),
               std::runtime_error);
  int calls = 0;
  parallel_for(5, 5, 1, [&](int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
}

}  // namespace
