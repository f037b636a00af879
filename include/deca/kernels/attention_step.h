// One decoding step's attentions on the CPU: a single query per row against
// that row's keys and values. What LibTorch runs as two small batched
// products (a matrix-vector product per row, and per head for multi-head
// attention), each reading all rows' memory, here one row at a time so that
// the second pass over a row's memory finds it in cache. Torch-free.
#pragma once

#include <cstdint>
#include <vector>

namespace deca::kernels {

// q (rows, d), keys and values (rows, keys, d), row-major; a row's keys and
// values start `row_stride` floats after the previous row's (keys * d when
// contiguous, more in a cache with room to grow); head h is columns
// [bounds[h], bounds[h + 1]) of d. Per row and head: softmax(q_h . k_h /
// scale) over the keys not marked in `padding` (rows, keys; null: none), then
// the weighted sum of v_h, into out (rows, d).
void attend_one_query(const float* q, const float* keys, const float* values, const bool* padding, int64_t rows,
                      int64_t key_count, int64_t row_stride, int64_t d, const std::vector<int64_t>& bounds, float scale,
                      float* out);

// The pointer decoder's attention (DecoderAttention): h (rows, d), memory
// (rows, len, d), padding (rows, len; null: none). Per row: attention =
// softmax(memory h) over the unpadded positions + epsilon at every position,
// into attention (rows, len), and alignment = attention . memory into
// alignment (rows, d).
void attend_memory(const float* h, const float* memory, const bool* padding, int64_t rows, int64_t len, int64_t d,
                   float epsilon, float* attention, float* alignment);

}  // namespace deca::kernels
