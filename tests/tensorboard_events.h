// Reads TensorBoard event files back for the tests: the TFRecord framing with
// both CRCs checked, and the fields of each tensorflow.Event that deca writes.
// Independent of src/core/tensorboard.cpp except for crc32c, itself checked
// against the standard's test vector.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "deca/core/io.h"
#include "deca/core/tensorboard.h"

namespace deca::testing {

struct TbEvent {
  double wall_time = 0;
  long step = 0;
  std::string file_version;
  std::string tag;  // of a scalar summary
  float value = 0;
  int session_status = 0;  // 1: START
};

class ProtoReader {
 public:
  explicit ProtoReader(std::string_view data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      if (pos_ >= data_.size() || shift > 63) throw std::runtime_error("truncated varint");
      const auto b = static_cast<unsigned char>(data_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
  }
  std::string_view bytes(size_t n) {
    if (pos_ + n > data_.size()) throw std::runtime_error("truncated field");
    const auto out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  template <class T>
  T fixed() {
    T v;
    std::memcpy(&v, bytes(sizeof(T)).data(), sizeof(T));
    return v;
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

inline uint32_t unmask_crc(uint32_t m) {
  const uint32_t rot = m - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

// Calls fn(field, wire_type, reader) for each field; the callee reads the value.
template <class Fn>
void for_each_field(std::string_view message, Fn fn) {
  ProtoReader r(message);
  while (!r.done()) {
    const uint64_t key = r.varint();
    fn(static_cast<int>(key >> 3), static_cast<int>(key & 7), r);
  }
}

inline TbEvent parse_event(std::string_view data) {
  TbEvent e;
  for_each_field(data, [&](int field, int wire, ProtoReader& r) {
    if (field == 1 && wire == 1) {
      e.wall_time = r.fixed<double>();
    } else if (field == 2 && wire == 0) {
      e.step = static_cast<long>(r.varint());
    } else if (field == 3 && wire == 2) {
      e.file_version = std::string(r.bytes(r.varint()));
    } else if (field == 5 && wire == 2) {  // Summary { repeated Value value = 1; }
      for_each_field(r.bytes(r.varint()), [&](int, int, ProtoReader& s) {
        for_each_field(s.bytes(s.varint()), [&](int f, int w, ProtoReader& v) {
          if (f == 1 && w == 2)
            e.tag = std::string(v.bytes(v.varint()));
          else if (f == 2 && w == 5)
            e.value = v.fixed<float>();
          else
            throw std::runtime_error("unexpected field in Summary.Value");
        });
      });
    } else if (field == 7 && wire == 2) {  // SessionLog { status = 1; }
      for_each_field(r.bytes(r.varint()), [&](int f, int, ProtoReader& s) {
        if (f == 1) e.session_status = static_cast<int>(s.varint());
      });
    } else {
      throw std::runtime_error("unexpected Event field " + std::to_string(field));
    }
  });
  return e;
}

// Every event of a file; throws on a bad length or data CRC.
inline std::vector<TbEvent> read_tb_events(const std::filesystem::path& file) {
  const std::string data = read_file(file);
  std::vector<TbEvent> out;
  ProtoReader r(data);
  while (!r.done()) {
    const std::string_view header = r.bytes(8);
    if (unmask_crc(r.fixed<uint32_t>()) != crc32c(header)) throw std::runtime_error("bad length CRC");
    uint64_t length;
    std::memcpy(&length, header.data(), 8);
    const std::string_view event = r.bytes(length);
    if (unmask_crc(r.fixed<uint32_t>()) != crc32c(event)) throw std::runtime_error("bad data CRC");
    out.push_back(parse_event(event));
  }
  return out;
}

// The events files of a folder, in name order (as TensorBoard reads them).
inline std::vector<std::filesystem::path> tb_event_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().rfind("events.out.tfevents.", 0) == 0) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace deca::testing
