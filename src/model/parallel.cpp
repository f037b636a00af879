#include "deca/model/parallel.h"

#include <ATen/Parallel.h>
#include <ATen/ThreadLocalState.h>

#include "deca/core/log.h"
#include "deca/core/threads.h"

#include <exception>
#include <string>
#include <mutex>

#ifdef _OPENMP
#include <omp.h>
#endif

#if !defined(_OPENMP) && defined(DECA_REQUIRE_OPENMP)
#error "parallel.cpp must be compiled with OpenMP, or at::parallel_for runs on one thread"
#endif

namespace deca::model {

void parallel_for(int64_t begin, int64_t end, int64_t grain, const std::function<void(int64_t, int64_t)>& body) {
  at::parallel_for(begin, end, grain, body);
}

void run_workers(int workers, const std::function<void(int worker)>& worker) {
#ifdef _OPENMP
  if (workers > 1) {
    std::exception_ptr failure;
    std::mutex failure_mutex;
    const at::ThreadLocalState caller;  // grad mode, profiler callbacks, ...: as at::parallel_for passes them on
#pragma omp parallel num_threads(workers)
    {
      const at::ThreadLocalStateGuard state(caller);
      try {
        // Every worker runs once even where OpenMP grants fewer threads (nested calls).
        for (int w = omp_get_thread_num(); w < workers; w += omp_get_num_threads()) worker(w);
      } catch (...) {
        std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure) failure = std::current_exception();
      }
    }
    if (failure) std::rethrow_exception(failure);
    return;
  }
#endif
  for (int w = 0; w < workers; ++w) worker(w);  // one after another
}

int use_threads(int requested, int processes) {
  const ThreadCount t = requested > 0 ? ThreadCount{requested, "as set"} : default_threads(processes);
  at::set_num_threads(t.count);
  log::info("{} thread{} ({})", t.count, t.count == 1 ? "" : "s", t.why);
  return t.count;
}

}  // namespace deca::model
