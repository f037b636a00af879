#include "deca/kernels/isa.h"

#include <cstdlib>
#include <string>

#include "deca/core/error.h"
#include "target.h"

namespace deca::kernels {

const char* to_string(Isa isa) {
  switch (isa) {
    case Isa::avx512:
      return "avx512";
    case Isa::avx2:
      return "avx2";
    default:
      return "portable";
  }
}

Isa cpu_isa() {
#ifdef DECA_KERNELS_X86
  static const Isa best = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") ? Isa::avx512
                          : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")       ? Isa::avx2
                                                                                                  : Isa::portable;
  return best;
#else
  return Isa::portable;
#endif
}

Isa isa_forced_by(const char* value) {
  if (!value || !*value) return cpu_isa();
  const std::string name = value;
  for (Isa isa : {Isa::portable, Isa::avx2, Isa::avx512}) {
    if (name != to_string(isa)) continue;
    if (isa > cpu_isa())
      throw Error("DECA_ISA=" + name + ": this CPU runs at most " + to_string(cpu_isa()) +
                  " (DECA_ISA can only force a lower instruction set)");
    return isa;
  }
  throw Error("DECA_ISA=" + name + ": expected portable, avx2 or avx512");
}

Isa active_isa() {
  static const Isa isa = isa_forced_by(std::getenv("DECA_ISA"));
  return isa;
}

std::vector<Isa> runnable_isas() {
  std::vector<Isa> isas;
  for (Isa isa : {Isa::portable, Isa::avx2, Isa::avx512})
    if (isa <= cpu_isa()) isas.push_back(isa);
  return isas;
}

bool has_bf16_dot() {
#ifdef DECA_KERNELS_X86
  static const bool has = cpu_isa() == Isa::avx512 && __builtin_cpu_supports("avx512bf16");
  return has;
#else
  return false;
#endif
}

}  // namespace deca::kernels
