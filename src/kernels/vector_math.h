// What deca's vectorised kernels share (internal to src/kernels): exp written
// once over a vector type's operations, and the blocks of rows that the
// output layer's kernels take as compile-time sizes.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "target.h"

namespace deca::kernels {
namespace {

// x = exp(x) for x clamped to [-87.3, 88.3] (0 below, about 2^127 above):
// Cephes' single-precision polynomial, a few ulp. V supplies the operations
// on its type V::F (Math below): plain floats in loops the compiler vectorises,
// or the AVX2 and AVX-512 registers as vectors (output_layer_x86.cpp).
// In place: a vector passed by value from a function of one ISA to one of
// another would change the calling convention (clang refuses it).
template <class V>
DECA_INLINE inline void exp_in_place(typename V::F& x) {
  x = V::min(V::max(x, V::set(-87.3f)), V::set(88.3f));
  const auto n = V::round(V::mul(x, V::set(1.44269504088896341f)));
  auto r = V::fnmadd(n, V::set(0.693359375f), x);
  r = V::fnmadd(n, V::set(-2.12194440e-4f), r);
  auto p = V::set(1.9875691500e-4f);
  p = V::fmadd(p, r, V::set(1.3981999507e-3f));
  p = V::fmadd(p, r, V::set(8.3334519073e-3f));
  p = V::fmadd(p, r, V::set(4.1665795894e-2f));
  p = V::fmadd(p, r, V::set(1.6666665459e-1f));
  p = V::fmadd(p, r, V::set(5.0000001201e-1f));
  p = V::fmadd(p, V::mul(r, r), V::add(r, V::set(1.0f)));
  x = V::times_pow2(p, n);
}

// The operations exp_in_place needs, in plain C++ operators only, so that
// they inline into a function of any ISA: F is float (in loops that the
// compiler vectorises) or a GCC/clang vector of floats (the intrinsic
// kernels' registers), I the integers of its shape. No multiply-add is
// contracted into an FMA (-ffp-contract=off, src/CMakeLists.txt): each ISA's
// variant of an element-wise loop gives the same bits.
template <class Float, class Int>
struct Math {
  using F = Float;
  using I = Int;
  DECA_INLINE static F set(float v) { return F{} + v; }
  DECA_INLINE static F add(F a, F b) { return a + b; }
  DECA_INLINE static F mul(F a, F b) { return a * b; }
  DECA_INLINE static F fmadd(F a, F b, F c) { return a * b + c; }
  DECA_INLINE static F fnmadd(F a, F b, F c) { return c - a * b; }
  // b where a is NaN, as x86's max and min instructions.
  DECA_INLINE static F max(F a, F b) { return a > b ? a : b; }
  DECA_INLINE static F min(F a, F b) { return a < b ? a : b; }
  // To the nearest integer, ties to even, for |x| < 2^22.
  DECA_INLINE static F round(F x) { return (x + 12582912.0f) - 12582912.0f; }
  // p * 2^n for integers n in [-126, 127], through the exponent bits.
  DECA_INLINE static F times_pow2(F p, F n) {
    if constexpr (std::is_same_v<F, float>) {
      const int32_t bits = (static_cast<int32_t>(n) + 127) * (1 << 23);
      float scale;
      std::memcpy(&scale, &bits, sizeof scale);
      return p * scale;
    } else {
      const I bits = (__builtin_convertvector(n, I) + 127) << 23;
      return p * (F)bits;  // a vector cast keeps the bits
    }
  }
};

using f32x8 = float __attribute__((vector_size(32)));
using i32x8 = int32_t __attribute__((vector_size(32)));
using f32x16 = float __attribute__((vector_size(64)));
using i32x16 = int32_t __attribute__((vector_size(64)));
using ScalarMath = Math<float, int32_t>;

DECA_INLINE inline float exp_(float x) {
  exp_in_place<ScalarMath>(x);
  return x;
}
// 1 / (1 + exp(-x)), and tanh(x) = 1 - 2 / (exp(2x) + 1): within 1e-7 of the
// exact values, saturating to 0, 1 and +-1 as float does.
DECA_INLINE inline float sigmoid_(float x) { return 1.0f / (1.0f + exp_(-x)); }
DECA_INLINE inline float tanh_(float x) { return 1.0f - 2.0f / (exp_(2.0f * x) + 1.0f); }

// f(std::integral_constant<int, n>) for n in [1, N].
template <int N, class F>
DECA_INLINE inline void with_size(int64_t n, const F& f) {
  if constexpr (N > 1) {
    if (n == N) return f(std::integral_constant<int, N>{});
    return with_size<N - 1>(n, f);
  } else {
    f(std::integral_constant<int, 1>{});
  }
}

// Rows [0, rows) in blocks of at most Max, as even as can be (a lone
// remainder row would cost half a block: a chain of dependent multiply-adds
// with no reuse): block(R, r0, first) per block, R its size as a constant.
template <int Max, class Block>
DECA_INLINE inline void for_row_blocks(int64_t rows, const Block& block) {
  const int64_t blocks = (rows + Max - 1) / Max;
  for (int64_t b = 0, r0 = 0; b < blocks; ++b) {
    const int64_t n = rows / blocks + (b < rows % blocks ? 1 : 0);
    with_size<Max>(n, [&](auto size) DECA_INLINE { block(size, r0, b == 0); });
    r0 += n;
  }
}

}  // namespace
}  // namespace deca::kernels
