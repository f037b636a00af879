// Work split over LibTorch's intra-op threads, for deca's own CPU loops.
#pragma once

#include <cstdint>
#include <functional>

namespace deca::model {

// at::parallel_for's contract: body(from, to) over chunks of [begin, end), in
// parallel when there are more than `grain` items and more than one thread.
// Why not at::parallel_for itself: it is a header template that runs in
// parallel only in code compiled with OpenMP. This one translation unit is
// (src/CMakeLists.txt), so its callers need not be, nor skip the precompiled
// <torch/torch.h>.
void parallel_for(int64_t begin, int64_t end, int64_t grain, const std::function<void(int64_t, int64_t)>& body);

// Runs worker(w) for w in [0, workers) at once, one thread each (the caller's
// among them), and returns when all have; the first exception thrown is
// rethrown. Within a worker, LibTorch's and OpenBLAS's parallel loops run on
// that worker's thread alone (nested OpenMP regions run inline): for
// independent items of work too small to keep every core busy one at a time.
// LibTorch's thread-local state (grad mode, the profiler's callbacks, ...) is
// the caller's in every worker, as at::parallel_for passes it on.
void run_workers(int workers, const std::function<void(int worker)>& worker);

// Sets LibTorch's intra-op threads, which deca's own loops follow:
// `requested` when > 0 (--threads, training.threads), else the CPUs this
// process may use (deca::default_threads: OMP_NUM_THREADS, the affinity mask,
// a container's quota) shared by `processes`; logs how many and why.
int use_threads(int requested, int processes = 1);

}  // namespace deca::model
