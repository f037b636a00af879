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

}  // namespace deca::model
