// The Unicode behaviour of Python 3's str methods and `re` that the reference
// implementations rely on (lowercasing, whitespace splitting, word characters),
// without a dependency on ICU. Tables: src/text/unicode_tables.inc.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace deca::text {

// UTF-8 <-> code points. Invalid bytes decode to U+FFFD.
std::u32string decode_utf8(std::string_view s);
std::string encode_utf8(std::u32string_view s);
void append_utf8(std::string& out, char32_t cp);
// True when `s` is well-formed UTF-8.
bool valid_utf8(std::string_view s);

bool is_space(char32_t cp);  // str.isspace()
bool is_word(char32_t cp);   // re's \w: str.isalnum() or '_'
// revtok's character class, from the general category's first letter:
// L and M 7, N 5, S 3, P 1, Z -1, C (and unassigned) -3.
int revtok_priority(char32_t cp);

std::string lower(std::string_view s);  // str.lower()
std::u32string lower(std::u32string_view s);

std::vector<std::string> split_ws(std::string_view s);  // str.split()
std::string strip(std::string_view s);                  // str.strip()
std::string rstrip(std::string_view s);                 // str.rstrip()
std::string collapse_ws(std::string_view s);            // " ".join(s.split())

// unicodedata.normalize("NFKC", s), as the CNN/DailyMail loader applies it.
std::string nfkc(std::string_view s);

}  // namespace deca::text
