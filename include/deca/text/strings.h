// Plain byte-string helpers with Python's semantics for str.replace and str.split(sep).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace deca::text {

// Every non-overlapping occurrence of `from`, left to right, as str.replace.
std::string replace_all(std::string_view s, std::string_view from, std::string_view to);

// The pieces between separators, empty ones included, as str.split(sep).
std::vector<std::string> split(std::string_view s, char sep);

}  // namespace deca::text
