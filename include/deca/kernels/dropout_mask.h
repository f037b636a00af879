// Dropout's mask from a counter hash (model/dropout.cpp): element i is kept,
// and scaled by 1 / (1 - p), when a 32-bit word of splitmix64(key + (i / 2)
// * stride) (low word for even i, high for odd) is at least p * 2^32. The
// mask is kept for backward as bits, bit i % 64 of bits[i / 64]. The same
// mask whatever the thread count or ISA.
#pragma once

#include <cstdint>

#include "deca/kernels/isa.h"

namespace deca::kernels {

// What a kept element is multiplied by.
float keep_scale(double p);

// out = in * mask over n elements, the mask's bits into bits ((n + 63) / 64).
void mask_forward(const float* in, float* out, uint64_t* bits, int64_t n, uint64_t key, double p,
                  Isa isa = active_isa());

// out = in * mask, from the bits mask_forward wrote.
void mask_backward(const float* in, float* out, const uint64_t* bits, int64_t n, double p, Isa isa = active_isa());

}  // namespace deca::kernels
