// SHA-1, for the CNN/DailyMail story file names (sha1(url).story) and cache keys.
#pragma once

#include <string>
#include <string_view>

namespace deca {

// Incremental SHA-1.
class Sha1 {
 public:
  Sha1();
  Sha1& update(std::string_view data);
  std::string hex_digest();  // 40 lowercase hex characters; ends the hash

 private:
  void block(const unsigned char* p);
  unsigned int h_[5];
  unsigned char buf_[64];
  size_t buf_len_ = 0;
  unsigned long long total_ = 0;
};

inline std::string sha1_hex(std::string_view data) { return Sha1().update(data).hex_digest(); }

}  // namespace deca
