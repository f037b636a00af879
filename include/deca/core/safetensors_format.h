// The safetensors container without LibTorch: an 8-byte little-endian header
// length, a JSON header {name: {dtype, shape, data_offsets}}, then the data.
// The parser treats the file as untrusted: every size and offset is checked
// without overflow before anything is read.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace deca {

struct TensorRecord {
  std::string name, dtype;  // dtype: F32, F64, F16, BF16, I64, I32, I8, U8, BOOL
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte range in the file (absolute)
};

struct SafetensorsLayout {
  std::vector<TensorRecord> tensors;  // in header order
  std::map<std::string, std::string> metadata;
};

// Bytes per element of a dtype name; 0 when unknown.
size_t safetensors_dtype_size(std::string_view dtype);

// Parses and checks the whole layout of `bytes`; errors are DataErrors naming `file`.
SafetensorsLayout parse_safetensors(std::string_view bytes, const std::string& file);

}  // namespace deca
