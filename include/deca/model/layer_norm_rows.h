// LayerNorm (layers.h) on the CPU without autograd: one pass per row where
// LibTorch runs seven operators (mean, std, subtract, divide, add, multiply,
// add), each over the whole tensor. Torch-free.
#pragma once

#include <cstdint>

namespace deca::model::cpu {

// Per row of x (rows, d), row-major: y = gamma * (x - mean) / (std + eps) + beta,
// std the unbiased standard deviation (d > 1).
void layer_norm_rows(const float* x, const float* gamma, const float* beta, int64_t rows, int64_t d, float eps,
                     float* y);

}  // namespace deca::model::cpu
