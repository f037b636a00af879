// Errors that reach the user. Every message names what was wrong, where
// (file, line or record) and what was expected.
#pragma once

#include <stdexcept>
#include <string>

namespace deca {

// Base class for every error deca reports to the user.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Malformed or missing input data: a file, a line in it or a record.
class DataError : public Error {
 public:
  using Error::Error;
  // "FILE:LINE: MESSAGE"; line 0 means "the whole file".
  static DataError at(const std::string& file, long line, const std::string& message);
};

// An invalid configuration value or command-line option.
class ConfigError : public Error {
 public:
  using Error::Error;
};

// Work stopped by a stop signal (deca/core/stop.h); executables exit with 130.
class Interrupted : public Error {
 public:
  using Error::Error;
};

}  // namespace deca
