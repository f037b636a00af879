#include "deca/kernels/parallel.h"

#include <algorithm>
#include <exception>
#include <mutex>

#ifdef _OPENMP
#include <omp.h>
#endif

#if !defined(_OPENMP) && defined(DECA_REQUIRE_OPENMP)
#error "parallel.cpp must be compiled with OpenMP, or deca's loops run on one thread"
#endif

namespace deca::kernels {
namespace {

// The first exception thrown inside a parallel region, rethrown after it.
class FirstFailure {
 public:
  template <class Work>
  void run(const Work& work) {
    try {
      work();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!failure_) failure_ = std::current_exception();
    }
  }
  void rethrow() const {
    if (failure_) std::rethrow_exception(failure_);
  }

 private:
  std::exception_ptr failure_;
  std::mutex mutex_;
};

}  // namespace

int max_threads() {
#ifdef _OPENMP
  return omp_in_parallel() ? 1 : omp_get_max_threads();
#else
  return 1;
#endif
}

void parallel_for(int64_t begin, int64_t end, int64_t grain, const std::function<void(int64_t, int64_t)>& body) {
  if (begin >= end) return;
  const int64_t range = end - begin;
  const int64_t threads =
      std::min<int64_t>(max_threads(), (range + std::max<int64_t>(1, grain) - 1) / std::max<int64_t>(1, grain));
  if (range <= grain || threads <= 1) return body(begin, end);
#ifdef _OPENMP
  // As at::parallel_for: one chunk per thread, the first exception rethrown.
  FirstFailure failure;
#pragma omp parallel num_threads(static_cast <int>(threads))
  {
    const int64_t n = omp_get_num_threads(), chunk = (range + n - 1) / n;
    const int64_t from = begin + omp_get_thread_num() * chunk;
    if (from < end) failure.run([&] { body(from, std::min(end, from + chunk)); });
  }
  failure.rethrow();
#endif
}

void run_workers(int workers, const std::function<void(int worker)>& worker) {
#ifdef _OPENMP
  if (workers > 1) {
    FirstFailure failure;
#pragma omp parallel num_threads(workers)
    failure.run([&] {
      // Every worker runs once even where OpenMP grants fewer threads (nested calls).
      for (int w = omp_get_thread_num(); w < workers; w += omp_get_num_threads()) worker(w);
    });
    failure.rethrow();
    return;
  }
#endif
  for (int w = 0; w < workers; ++w) worker(w);  // one after another
}

}  // namespace deca::kernels
