#include "deca/kernels/layer_norm_rows.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "deca/kernels/parallel.h"

namespace deca::kernels {

namespace {

struct RowMoments {
  float mean, std;
};

// Two passes in double, as LibTorch's std accumulates float input.
RowMoments moments(const float* xr, int64_t d) {
  double sum = 0;
  for (int64_t c = 0; c < d; ++c) sum += xr[c];
  const double mean = sum / static_cast<double>(d);
  double squares = 0;
  for (int64_t c = 0; c < d; ++c) {
    const double e = xr[c] - mean;
    squares += e * e;
  }
  return {static_cast<float>(mean), static_cast<float>(std::sqrt(squares / static_cast<double>(d - 1)))};
}

}  // namespace

void layer_norm_rows(const float* x, const float* gamma, const float* beta, int64_t rows, int64_t d, float eps,
                     float* y) {
  parallel_for(0, rows, 256, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* xr = x + r * d;
      float* yr = y + r * d;
      const auto [m, std] = moments(xr, d);
      const float denominator = std + eps;
      for (int64_t c = 0; c < d; ++c) yr[c] = gamma[c] * (xr[c] - m) / denominator + beta[c];
    }
  });
}

void layer_norm_rows_forward(const float* x, const float* gamma, const float* beta, int64_t rows, int64_t d, float eps,
                             float* y, float* xhat, float* stats) {
  parallel_for(0, rows, 256, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* xr = x + r * d;
      float *yr = y + r * d, *hr = xhat + r * d;
      const auto [m, std] = moments(xr, d);
      const float denominator = std + eps;
      for (int64_t c = 0; c < d; ++c) {
        yr[c] = gamma[c] * (xr[c] - m) / denominator + beta[c];
        hr[c] = (xr[c] - m) / denominator;
      }
      stats[2 * r] = 1.0f / denominator;
      stats[2 * r + 1] = std > 0 ? static_cast<float>(1.0 / (static_cast<double>(d - 1) * std)) : 0.0f;
    }
  });
}

// With a = dy * gamma, s = std + eps and xhat = (x - mean) / s:
// dx = (a - mean(a)) / s - xhat * sum(a * xhat) / ((d - 1) std),
// the second term from std's own gradient, (x - mean) / ((d - 1) std).
void layer_norm_rows_backward(const float* dy, const float* xhat, const float* stats, const float* gamma, int64_t rows,
                              int64_t d, float* dx, float* dgamma, float* dbeta) {
  // dgamma and dbeta summed per block of rows, then over the blocks in order:
  // the same sums whatever the thread count.
  constexpr int64_t kRows = 64;
  const int64_t blocks = (rows + kRows - 1) / kRows;
  std::vector<double> partial(static_cast<size_t>(2 * blocks * d), 0.0);
  parallel_for(0, blocks, 1, [&](int64_t first, int64_t last) {
    for (int64_t b = first; b < last; ++b) {
      double *sum_gamma = partial.data() + 2 * b * d, *sum_beta = sum_gamma + d;
      for (int64_t r = b * kRows; r < std::min(rows, (b + 1) * kRows); ++r) {
        const float *gr = dy + r * d, *hr = xhat + r * d;
        float* dr = dx + r * d;
        double sum_a = 0, sum_ah = 0;
        for (int64_t c = 0; c < d; ++c) {
          const double a = static_cast<double>(gr[c]) * gamma[c];
          sum_a += a;
          sum_ah += a * hr[c];
          sum_gamma[c] += static_cast<double>(gr[c]) * hr[c];
          sum_beta[c] += gr[c];
        }
        const float inv_s = stats[2 * r], mean_a = static_cast<float>(sum_a / static_cast<double>(d));
        const float k = static_cast<float>(sum_ah * stats[2 * r + 1]);
        for (int64_t c = 0; c < d; ++c) dr[c] = (gr[c] * gamma[c] - mean_a) * inv_s - hr[c] * k;
      }
    }
  });
  for (int64_t c = 0; c < d; ++c) {
    double g = 0, b = 0;
    for (int64_t k = 0; k < blocks; ++k) {
      g += partial[static_cast<size_t>(2 * k * d + c)];
      b += partial[static_cast<size_t>((2 * k + 1) * d + c)];
    }
    dgamma[c] = static_cast<float>(g);
    dbeta[c] = static_cast<float>(b);
  }
}

}  // namespace deca::kernels
