// One decoding step's multi-head attention on the CPU: a single query per row
// against that row's keys and values, all heads in one pass over each key and
// value row. What LibTorch runs as two small batched products per head (a
// matrix-vector product per row and head, strided) when a decoder attends.
// Torch-free.
#pragma once

#include <cstdint>
#include <vector>

namespace deca::model::cpu {

// q (rows, d), keys and values (rows, keys, d), all row-major and contiguous;
// head h is columns [bounds[h], bounds[h + 1]) of d. Per row and head:
// softmax(q_h . k_h / scale) over the keys not marked in `padding` (rows,
// keys; null: none), then the weighted sum of v_h, into out (rows, d).
void attend_one_query(const float* q, const float* keys, const float* values, const bool* padding, int64_t rows,
                      int64_t key_count, int64_t d, const std::vector<int64_t>& bounds, float scale, float* out);

}  // namespace deca::model::cpu
