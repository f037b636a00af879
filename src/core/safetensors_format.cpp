#include "deca/core/safetensors_format.h"

#include <cstring>
#include <limits>

#include <nlohmann/json.hpp>

#include "deca/core/error.h"

namespace deca {

size_t safetensors_dtype_size(std::string_view dtype) {
  if (dtype == "F64" || dtype == "I64") return 8;
  if (dtype == "F32" || dtype == "I32") return 4;
  if (dtype == "F16" || dtype == "BF16") return 2;
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL") return 1;
  return 0;
}

SafetensorsLayout parse_safetensors(std::string_view bytes, const std::string& file) {
  auto fail = [&](const std::string& what) { return DataError::at(file, 0, "not a valid safetensors file: " + what); };
  if (bytes.size() < 8) throw fail("shorter than its 8-byte header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
  if (n > bytes.size() - 8) throw fail("header length " + std::to_string(n) + " exceeds the file");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.substr(8, n));
  } catch (const nlohmann::json::exception& e) {
    throw fail(std::string("header is not JSON (") + e.what() + ")");
  }
  if (!header.is_object()) throw fail("header is not a JSON object");
  const uint64_t base = 8 + n, data_size = bytes.size() - base;
  SafetensorsLayout out;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      if (!info.is_object()) throw fail("__metadata__ is not an object");
      for (const auto& [k, v] : info.items()) {
        if (!v.is_string()) throw fail("__metadata__." + k + " is not a string");
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor \"" + name + "\": ";
    if (!info.is_object()) throw fail(where + "expected {dtype, shape, data_offsets}");
    const auto dtype = info.find("dtype");
    const auto shape = info.find("shape");
    const auto offsets = info.find("data_offsets");
    if (dtype == info.end() || !dtype->is_string() || shape == info.end() || !shape->is_array() ||
        offsets == info.end() || !offsets->is_array() || offsets->size() != 2)
      throw fail(where + "expected {dtype, shape, data_offsets}");
    TensorRecord r;
    r.name = name;
    r.dtype = dtype->get<std::string>();
    const size_t elem = safetensors_dtype_size(r.dtype);
    if (elem == 0) throw fail(where + "unsupported dtype " + r.dtype);
    uint64_t count = 1;
    for (const auto& d : *shape) {
      if (!d.is_number_unsigned()) throw fail(where + "shape entries must be non-negative integers");
      const uint64_t x = d.get<uint64_t>();
      if (x > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
          (x != 0 && count > std::numeric_limits<uint64_t>::max() / x))
        throw fail(where + "shape overflows");
      count *= x;
      r.shape.push_back(static_cast<int64_t>(x));
    }
    if (count > std::numeric_limits<uint64_t>::max() / elem) throw fail(where + "shape overflows");
    for (const auto& o : *offsets)
      if (!o.is_number_unsigned()) throw fail(where + "data_offsets must be non-negative integers");
    const uint64_t begin = (*offsets)[0].get<uint64_t>(), end = (*offsets)[1].get<uint64_t>();
    if (begin > end || end > data_size) throw fail(where + "data_offsets lie outside the data");
    if (end - begin != count * elem)
      throw fail(where + "data_offsets hold " + std::to_string(end - begin) + " bytes, its dtype and shape need " +
                 std::to_string(count * elem));
    r.begin = base + begin;
    r.end = base + end;
    out.tensors.push_back(std::move(r));
  }
  return out;
}

}  // namespace deca
