// bfloat16 as 16 bits: the decoding output layer's bf16 weights and the
// optimizer's bf16 moments.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace deca::kernels {

// fp32 to bfloat16 bits, rounded to nearest even (NaN stays NaN).
inline uint16_t to_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if (std::isnan(x)) return static_cast<uint16_t>((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

// x rounded to bfloat16 up or down with probabilities that make the result's
// expectation x: its fp32 bits plus 16 random bits, the low 16 dropped.
inline uint16_t to_bf16_stochastic(float x, uint32_t random16) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return static_cast<uint16_t>((bits + random16) >> 16);
}

inline float from_bf16(uint16_t bits) {
  const uint32_t u = static_cast<uint32_t>(bits) << 16;
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

}  // namespace deca::kernels
