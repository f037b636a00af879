#include "deca/kernels/attention_step.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "deca/kernels/output_layer.h"
#include "deca/kernels/parallel.h"

namespace deca::kernels {

void attend_one_query(const float* q, const float* keys, const float* values, const bool* padding, int64_t rows,
                      int64_t key_count, int64_t row_stride, int64_t d, const std::vector<int64_t>& bounds, float scale,
                      float* out) {
  const int64_t heads = static_cast<int64_t>(bounds.size()) - 1;
  const Isa isa = active_isa();
  parallel_for(0, rows, 4, [&](int64_t begin, int64_t end) {
    std::vector<float> weights(static_cast<size_t>(heads * key_count));  // (heads, keys)
    for (int64_t r = begin; r < end; ++r) {
      const float* qr = q + r * d;
      const float* kr = keys + r * row_stride;
      const float* vr = values + r * row_stride;
      const bool* pr = padding ? padding + r * key_count : nullptr;
      bool any = false;
      for (int64_t j = 0; j < key_count; ++j) any = any || !(pr && pr[j]);
      // Scores, one key row read once for all heads.
      for (int64_t j = 0; j < key_count; ++j) {
        const bool masked = any && pr && pr[j];
        for (int64_t h = 0; h < heads; ++h)
          weights[h * key_count + j] =
              masked ? -std::numeric_limits<float>::infinity()
                     : dot(qr + bounds[h], kr + j * d + bounds[h], bounds[h + 1] - bounds[h], isa) / scale;
      }
      for (int64_t h = 0; h < heads; ++h) {
        float* w = weights.data() + h * key_count;
        const float max = *std::max_element(w, w + key_count);
        float sum = 0;
        for (int64_t j = 0; j < key_count; ++j) sum += (w[j] = std::exp(w[j] - max));
        for (int64_t j = 0; j < key_count; ++j) w[j] /= sum;
      }
      float* o = out + r * d;
      std::fill(o, o + d, 0.0f);
      for (int64_t j = 0; j < key_count; ++j) {
        const float* v = vr + j * d;
        for (int64_t h = 0; h < heads; ++h) {
          const float w = weights[h * key_count + j];
          if (w == 0.0f) continue;
          for (int64_t c = bounds[h]; c < bounds[h + 1]; ++c) o[c] += w * v[c];
        }
      }
    }
  });
}

void attend_memory(const float* h, const float* memory, const bool* padding, int64_t rows, int64_t len, int64_t d,
                   float epsilon, float* attention, float* alignment) {
  const Isa isa = active_isa();
  parallel_for(0, rows, 4, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* m = memory + r * len * d;
      const bool* pr = padding ? padding + r * len : nullptr;
      float* a = attention + r * len;
      float max = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j < len; ++j) {
        a[j] = pr && pr[j] ? -std::numeric_limits<float>::infinity() : dot(h + r * d, m + j * d, d, isa);
        max = std::max(max, a[j]);
      }
      // As softmax: exp(s - max) / sum (all positions padded: NaN, as there).
      float sum = 0;
      for (int64_t j = 0; j < len; ++j) sum += (a[j] = std::exp(a[j] - max));
      for (int64_t j = 0; j < len; ++j) a[j] = a[j] / sum + epsilon;
      float* o = alignment + r * d;
      std::fill(o, o + d, 0.0f);
      for (int64_t j = 0; j < len; ++j) {
        const float w = a[j];
        const float* mj = m + j * d;
        for (int64_t c = 0; c < d; ++c) o[c] += w * mj[c];
      }
    }
  });
}

}  // namespace deca::kernels
