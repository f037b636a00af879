// Counter-based random bits: the hash of a key plus a counter, so that element
// i of a tensor draws the same bits whatever the thread count or the order of
// the work (dropout's masks, the optimizer's stochastic rounding).
#pragma once

#include <cstdint>

namespace deca {

// SplitMix64's output function: a bijection whose output bits each depend on
// every input bit, so consecutive counters give independent-looking words.
inline uint64_t splitmix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The counter's step between two hashes (SplitMix64's increment).
constexpr uint64_t kCounterStride = 0x9e3779b97f4a7c15ULL;

}  // namespace deca
