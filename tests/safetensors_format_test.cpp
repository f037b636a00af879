// The safetensors layout parser on untrusted bytes: sizes and offsets that
// would overflow or point outside the file are errors naming the file.
#include <cstring>

#include "deca/core/error.h"
#include "deca/core/safetensors_format.h"
#include "test_support.h"

namespace {

std::string file_with(const std::string& header, size_t data_bytes) {
  std::string out(8, '\0');
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + std::string(data_bytes, '\x01');
}

std::string error_of(const std::string& bytes) {
  try {
    deca::parse_safetensors(bytes, "w.safetensors");
  } catch (const deca::DataError& e) {
    return e.what();
  }
  return "";
}

TEST(Safetensors, ReadsAValidLayout) {
  const auto bytes =
      file_with(R"({"__metadata__": {"format": "pt"}, "a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},)"
                R"( "b": {"dtype": "I64", "shape": [], "data_offsets": [24, 32]}})",
                32);
  const auto layout = deca::parse_safetensors(bytes, "w.safetensors");
  ASSERT_EQ(layout.tensors.size(), 2u);
  EXPECT_EQ(layout.tensors[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(layout.tensors[1].end - layout.tensors[1].begin, 8u);
  EXPECT_EQ(layout.tensors[1].end, bytes.size());
  EXPECT_EQ(layout.metadata.at("format"), "pt");
}

TEST(Safetensors, RejectsWhatWouldOverflowOrReadOutside) {
  // Header length past the end (and near 2^64, where 8 + n wraps around).
  std::string huge(8, '\xff');
  EXPECT_NE(error_of(huge + "{}").find("header length"), std::string::npos);
  EXPECT_NE(error_of("abc").find("shorter than"), std::string::npos);
  // data_offsets past the data, and an end offset near 2^64.
  EXPECT_NE(error_of(file_with(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", 4)).find("outside"),
            std::string::npos);
  EXPECT_NE(error_of(file_with(R"({"a": {"dtype": "U8", "shape": [1], "data_offsets": [18446744073709551615, 0]}})", 4))
                .find("outside"),
            std::string::npos);
  // A shape whose byte count overflows 64 bits.
  EXPECT_NE(
      error_of(file_with(R"({"a": {"dtype": "F64", "shape": [4294967296, 4294967296, 4], "data_offsets": [0, 0]}})", 0))
          .find("overflows"),
      std::string::npos);
  // Offsets that disagree with dtype x shape, negative dimensions, unknown dtypes, wrong types.
  EXPECT_NE(error_of(file_with(R"({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", 8)).find("need 12"),
            std::string::npos);
  EXPECT_NE(
      error_of(file_with(R"({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", 4)).find("non-negative"),
      std::string::npos);
  EXPECT_NE(error_of(file_with(R"({"a": {"dtype": "Q4", "shape": [1], "data_offsets": [0, 1]}})", 1)).find("dtype"),
            std::string::npos);
  EXPECT_NE(error_of(file_with(R"({"a": [1, 2]})", 0)).find("tensor \"a\""), std::string::npos);
  EXPECT_NE(error_of(file_with(R"([1, 2])", 0)).find("not a JSON object"), std::string::npos);
  EXPECT_NE(error_of(file_with("{\"a\": ", 0)).find("w.safetensors"), std::string::npos);
}

}  // namespace
