// The public metric functions take parallel lists; a length mismatch is a
// caller's bug that would otherwise read out of bounds.
#pragma once

#include <cstddef>
#include <string>

#include "deca/core/error.h"

namespace deca::metrics {

inline void require_same_length(const char* function, const char* what, size_t predictions, size_t other) {
  if (predictions != other)
    throw Error(std::string(function) + ": " + std::to_string(predictions) + " predictions but " +
                std::to_string(other) + " " + what);
}

}  // namespace deca::metrics
