#include "deca/core/tensorboard.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>

namespace deca {
namespace {

// Protocol-buffer wire format, the few field kinds an Event uses.
void varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}
void key(std::string& out, int field, int wire_type) { varint(out, static_cast<uint64_t>(field << 3 | wire_type)); }
template <class T>
void little_endian(std::string& out, T v) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));  // x86 and ARM are little-endian, as the format
  out.append(bytes, sizeof(T));
}
void field_double(std::string& out, int field, double v) {
  key(out, field, 1);
  little_endian(out, v);
}
void field_float(std::string& out, int field, float v) {
  key(out, field, 5);
  little_endian(out, v);
}
void field_varint(std::string& out, int field, uint64_t v) {
  key(out, field, 0);
  varint(out, v);
}
void field_bytes(std::string& out, int field, std::string_view v) {
  key(out, field, 2);
  varint(out, v.size());
  out.append(v);
}

// tensorflow.Event: wall_time = 1, step = 2, file_version = 3, summary = 5, session_log = 7
// (6 is the deprecated log_message).
std::string event(double wall_time, long step) {
  std::string e;
  field_double(e, 1, wall_time);
  field_varint(e, 2, static_cast<uint64_t>(step));
  return e;
}

uint32_t masked(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

std::array<uint32_t, 256> crc_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    t[i] = c;
  }
  return t;
}

std::string new_events_file(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return (dir / ("events.out.tfevents." + std::to_string(seconds) + "." + host + "." + std::to_string(::getpid())))
      .string();
}

double now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

}  // namespace

uint32_t crc32c(std::string_view data) {
  static const auto table = crc_table();
  uint32_t c = 0xffffffffu;
  for (unsigned char b : data) c = table[(c ^ b) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

TensorBoardWriter::TensorBoardWriter(const std::filesystem::path& dir) : out_(new_events_file(dir)) {
  std::string e = event(now(), 0);
  field_bytes(e, 3, "brain.Event:2");
  write_record(e);
}

void TensorBoardWriter::restart(long step, double wall_time) {
  std::string log;  // tensorflow.SessionLog: status = 1 (START = 1)
  field_varint(log, 1, 1);
  std::string e = event(wall_time, step);
  field_bytes(e, 7, log);
  write_record(e);
}

void TensorBoardWriter::scalar(const std::string& tag, long step, double value, double wall_time) {
  std::string v;  // tensorflow.Summary.Value: tag = 1, simple_value = 2
  field_bytes(v, 1, tag);
  field_float(v, 2, static_cast<float>(value));
  std::string summary;  // tensorflow.Summary: value = 1 (repeated)
  field_bytes(summary, 1, v);
  std::string e = event(wall_time, step);
  field_bytes(e, 5, summary);
  write_record(e);
}

void TensorBoardWriter::write_record(std::string_view event) {
  std::string header;
  little_endian(header, static_cast<uint64_t>(event.size()));
  std::string record = header;
  little_endian(record, masked(crc32c(header)));
  record.append(event);
  little_endian(record, masked(crc32c(event)));
  out_.write(record);
}

}  // namespace deca
