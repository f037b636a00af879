// LayerNorm (layers.h) on the CPU: one pass per row where LibTorch runs seven
// operators (mean, std, subtract, divide, add, multiply, add), each over the
// whole tensor, and whose autograd keeps three tensors of the input's size for
// backward where one suffices. Torch-free.
#pragma once

#include <cstdint>

namespace deca::kernels {

// Per row of x (rows, d), row-major: y = gamma * (x - mean) / (std + eps) + beta,
// std the unbiased standard deviation (d > 1).
void layer_norm_rows(const float* x, const float* gamma, const float* beta, int64_t rows, int64_t d, float eps,
                     float* y);

// The same y, and what backward needs: the normalised rows xhat = (x - mean) /
// (std + eps), (rows, d), and per row `stats` 1 / (std + eps) and
// 1 / ((d - 1) std) (0 where std is 0), (rows, 2).
void layer_norm_rows_forward(const float* x, const float* gamma, const float* beta, int64_t rows, int64_t d, float eps,
                             float* y, float* xhat, float* stats);

// From dy (rows, d): dx (rows, d), and dgamma and dbeta (d), which it overwrites.
void layer_norm_rows_backward(const float* dy, const float* xhat, const float* stats, const float* gamma, int64_t rows,
                              int64_t d, float* dx, float* dgamma, float* dbeta);

}  // namespace deca::kernels
