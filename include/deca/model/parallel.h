// LibTorch's side of deca's threads; the loops themselves are
// deca::kernels::parallel_for and run_workers (deca/kernels/parallel.h).
#pragma once

#include <functional>

namespace deca::model {

// kernels::run_workers with LibTorch's thread-local state (grad mode, the
// profiler's callbacks, ...) the caller's in every worker, as
// at::parallel_for passes it on: for workers that run LibTorch operators.
void run_workers(int workers, const std::function<void(int worker)>& worker);

// Sets LibTorch's intra-op threads, which deca's own loops follow:
// `requested` when > 0 (--threads, training.threads), else the CPUs this
// process may use (deca::default_threads: OMP_NUM_THREADS, the affinity mask,
// a container's quota) shared by `processes`; logs how many and why, and
// the CPU kernels' instruction set (a wrong DECA_ISA throws deca::Error here).
int use_threads(int requested, int processes = 1);

}  // namespace deca::model
