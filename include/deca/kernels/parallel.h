// deca's CPU loops split over threads: the kernels' and the model's own.
// Torch-free, on LibTorch's thread pool all the same: LibTorch's CPU builds
// run their intra-op work on OpenMP, and at::set_num_threads sets OpenMP's
// thread count, which this file reads (src/CMakeLists.txt builds it with
// OpenMP, or warns that deca's loops run on one thread).
#pragma once

#include <cstdint>
#include <functional>

namespace deca::kernels {

// at::parallel_for's contract: body(from, to) over chunks of [begin, end), in
// parallel when there are more than `grain` items, more than one thread, and
// the caller is not already inside a parallel region (nested calls run inline).
void parallel_for(int64_t begin, int64_t end, int64_t grain, const std::function<void(int64_t, int64_t)>& body);

// Runs worker(w) for w in [0, workers) at once, one thread each (the caller's
// among them), and returns when all have; the first exception thrown is
// rethrown. Within a worker, parallel loops (these, LibTorch's, OpenBLAS's)
// run on that worker's thread alone (nested OpenMP regions run inline): for
// independent items of work too small to keep every core busy one at a time.
// model::run_workers passes LibTorch's thread-local state on to the workers.
void run_workers(int workers, const std::function<void(int worker)>& worker);

// The threads parallel_for would use now (1 inside a parallel region).
int max_threads();

}  // namespace deca::kernels
