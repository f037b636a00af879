#include "deca/model/layer_norm_rows.h"

#include <cmath>

#include "deca/model/parallel.h"

namespace deca::model::cpu {

void layer_norm_rows(const float* x, const float* gamma, const float* beta, int64_t rows, int64_t d, float eps,
                     float* y) {
  parallel_for(0, rows, 256, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* xr = x + r * d;
      float* yr = y + r * d;
      // Two passes in double, as LibTorch's std accumulates float input.
      double sum = 0;
      for (int64_t c = 0; c < d; ++c) sum += xr[c];
      const double mean = sum / static_cast<double>(d);
      double squares = 0;
      for (int64_t c = 0; c < d; ++c) {
        const double e = xr[c] - mean;
        squares += e * e;
      }
      const float m = static_cast<float>(mean);
      const float denominator = static_cast<float>(std::sqrt(squares / static_cast<double>(d - 1))) + eps;
      for (int64_t c = 0; c < d; ++c) yr[c] = gamma[c] * (xr[c] - m) / denominator + beta[c];
    }
  });
}

}  // namespace deca::model::cpu
