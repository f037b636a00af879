// DECA_CLONED: a function compiled once per x86-64 level (AVX-512, AVX2+FMA,
// baseline) and chosen when the program loads (GCC's target_clones), for
// loops that the compiler vectorizes; the build itself targets baseline x86-64.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define DECA_CLONED __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define DECA_CLONED
#endif
