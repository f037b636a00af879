// How deca's kernels run one source on several instruction sets (internal to
// src/kernels). One mechanism: a kernel's loop is written once, as an inline
// lambda, and on_isa() runs it inside a function compiled for the ISA asked
// for (GCC's and clang's target attribute), where the compiler vectorises it
// with that ISA's vectors. The choice is made at run time and can be forced
// lower (isa.h), so that each variant is tested on any CPU that runs it.
// Hand-written intrinsics (the output layer) use the same attributes.
#pragma once

#include "deca/kernels/isa.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define DECA_KERNELS_X86 1
#define DECA_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define DECA_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx2,fma")))
#define DECA_TARGET_AVX512BF16 __attribute__((target("avx512f,avx512bw,avx512bf16,avx2,fma")))
#endif

// Inlined wherever it is called, so that it is compiled for its caller's ISA.
#define DECA_INLINE __attribute__((always_inline))

namespace deca::kernels {
namespace {

template <class Body>
void run_portable(const Body& body) {
  body();
}
#ifdef DECA_KERNELS_X86
template <class Body>
DECA_TARGET_AVX2 void run_avx2(const Body& body) {
  body();
}
template <class Body>
DECA_TARGET_AVX512 void run_avx512(const Body& body) {
  body();
}
#endif

// Runs body (a lambda marked DECA_INLINE) compiled for `isa`.
template <class Body>
void on_isa(Isa isa, const Body& body) {
#ifdef DECA_KERNELS_X86
  if (isa == Isa::avx512) return run_avx512(body);
  if (isa == Isa::avx2) return run_avx2(body);
#endif
  run_portable(body);
}

}  // namespace
}  // namespace deca::kernels
