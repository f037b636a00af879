#include "deca/core/error.h"

namespace deca {

DataError DataError::at(const std::string& file, long line, const std::string& message) {
  if (line > 0) return DataError(file + ":" + std::to_string(line) + ": " + message);
  return DataError(file + ": " + message);
}

}  // namespace deca
