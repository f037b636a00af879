// The instruction sets deca's CPU kernels are built for, and which one runs.
// Torch-free, as all of deca/kernels.
#pragma once

#include <vector>

namespace deca::kernels {

// In order: a CPU that runs one runs those before it.
enum class Isa { portable, avx2, avx512 };
const char* to_string(Isa isa);

// The widest this CPU and this build run (portable off x86-64).
Isa cpu_isa();

// What the kernels run unless told otherwise: cpu_isa(), or a lower one named
// by the environment variable DECA_ISA (portable, avx2 or avx512), as
// CTranslate2's CT2_FORCE_CPU_ISA; read once. An unknown name, or one this
// CPU cannot run, throws deca::Error naming the variable.
Isa active_isa();

// What DECA_ISA=value asks for (null or empty: cpu_isa()); throws as active_isa.
Isa isa_forced_by(const char* value);

// portable up to cpu_isa(): every variant the kernel tests run here.
std::vector<Isa> runnable_isas();

// Whether this CPU has AVX512-BF16's dot product (vdpbf16ps), which the
// bfloat16 output layer uses with Isa::avx512.
bool has_bf16_dot();

}  // namespace deca::kernels
