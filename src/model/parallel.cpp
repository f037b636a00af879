#include "deca/model/parallel.h"

#include <ATen/Parallel.h>

#if !defined(_OPENMP) && defined(DECA_REQUIRE_OPENMP)
#error "parallel.cpp must be compiled with OpenMP, or at::parallel_for runs on one thread"
#endif

namespace deca::model {

void parallel_for(int64_t begin, int64_t end, int64_t grain, const std::function<void(int64_t, int64_t)>& body) {
  at::parallel_for(begin, end, grain, body);
}

}  // namespace deca::model
