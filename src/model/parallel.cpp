#include "deca/model/parallel.h"

#include <ATen/Parallel.h>
#include <ATen/ThreadLocalState.h>

#include "deca/core/log.h"
#include "deca/core/threads.h"
#include "deca/kernels/isa.h"
#include "deca/kernels/parallel.h"

namespace deca::model {

void run_workers(int workers, const std::function<void(int worker)>& worker) {
  const at::ThreadLocalState caller;  // grad mode, profiler callbacks, ...: as at::parallel_for passes them on
  kernels::run_workers(workers, [&](int w) {
    const at::ThreadLocalStateGuard state(caller);
    worker(w);
  });
}

int use_threads(int requested, int processes) {
  const ThreadCount t = requested > 0 ? ThreadCount{requested, "as set"} : default_threads(processes);
  at::set_num_threads(t.count);
  // The kernels' instruction set here, so that a wrong DECA_ISA stops the program before any work.
  const kernels::Isa isa = kernels::active_isa();
  log::info("{} thread{} ({}); CPU kernels: {}{}", t.count, t.count == 1 ? "" : "s", t.why, kernels::to_string(isa),
            isa < kernels::cpu_isa() ? " (forced by DECA_ISA)" : "");
  return t.count;
}

}  // namespace deca::model
