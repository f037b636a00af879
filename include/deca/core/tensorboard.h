// TensorBoard event files, written without TensorFlow or protobuf: the
// TFRecord framing (length, masked CRC-32C, payload, masked CRC-32C) of
// tensorflow.Event messages holding scalars, and the restart marker with which
// TensorBoard drops the steps a resumed run trains again.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "deca/core/io.h"

namespace deca {

// CRC-32C (Castagnoli), as TFRecord frames its records.
uint32_t crc32c(std::string_view data);

class TensorBoardWriter {
 public:
  // Starts a new file events.out.tfevents.<unix seconds>.<host>.<pid> in `dir`
  // (created if missing); TensorBoard reads every such file of a folder in
  // name order, so each start or resume of a run adds one.
  explicit TensorBoardWriter(const std::filesystem::path& dir);
  // A restart at `step` (SessionLog START): TensorBoard discards the values
  // of steps >= `step` read from earlier files, the part of a killed run that
  // a resumed run trains again.
  void restart(long step, double wall_time);
  void scalar(const std::string& tag, long step, double value, double wall_time);
  void flush() { out_.flush(); }
  const std::string& name() const { return out_.name(); }

 private:
  void write_record(std::string_view event);
  OutputFile out_;
};

}  // namespace deca
