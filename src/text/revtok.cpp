#include "deca/text/revtok.h"

#include "deca/text/unicode.h"

namespace deca::text {
namespace {

// Decodes the code point at s[i] (invalid bytes count as one U+FFFD, as
// decode_utf8 does) and returns its length in bytes.
size_t next_code_point(std::string_view s, size_t i, char32_t* cp) {
  const auto b = static_cast<unsigned char>(s[i]);
  size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
  if (n == 1) {
    *cp = b;
    return 1;
  }
  if (n == 0 || i + n > s.size() || !valid_utf8(s.substr(i, n))) {
    *cp = 0xFFFD;
    return 1;
  }
  *cp = decode_utf8(s.substr(i, n))[0];
  return n;
}

// revtok's state machine. `emit(token_start)` is called once per token, with
// the token's text built in `out` when building.
template <class Sink>
void tokenize_into(std::string_view text, Sink& sink) {
  constexpr int kAfterSpace = 100;  // revtok's `current = None`
  int current = 0;
  for (size_t i = 0; i < text.size();) {
    char32_t cp;
    const size_t n = next_code_point(text, i, &cp);
    const std::string_view c = text.substr(i, n);
    i += n;
    if (cp == ' ') {
      sink.append(" ");
      sink.start(" ");
      current = kAfterSpace;
      continue;
    }
    const int p = revtok_priority(cp);
    if (current == kAfterSpace || (p == current && p > 2)) {
      sink.append(c);
    } else if (p <= 0 && current <= 0) {
      sink.start(c);
    } else if (p <= current) {
      sink.append(" ");
      sink.start(c);
    } else {
      sink.start(" ");
      sink.append(c);
    }
    current = p;
  }
  if (current != kAfterSpace && current > 0) sink.append(" ");
}

// The first token of revtok's list starts empty and is dropped when still empty.
struct Builder {
  std::vector<std::string> tokens{std::string()};
  void append(std::string_view s) { tokens.back() += s; }
  void start(std::string_view s) { tokens.emplace_back(s); }
};

struct Counter {
  size_t tokens = 1;
  bool first_empty = true;
  void append(std::string_view) {
    if (tokens == 1) first_empty = false;
  }
  void start(std::string_view) { ++tokens; }
};

}  // namespace

std::vector<std::string> revtok_tokenize(std::string_view text) {
  Builder b;
  tokenize_into(text, b);
  if (b.tokens.front().empty()) b.tokens.erase(b.tokens.begin());
  return std::move(b.tokens);
}

size_t revtok_count(std::string_view text) {
  Counter c;
  tokenize_into(text, c);
  return c.tokens - (c.first_empty ? 1 : 0);
}

std::string collapse_half_spaces(std::string_view joined) {
  std::string out;
  out.reserve(joined.size());
  size_t run = 0;
  for (char c : joined) {
    if (c == ' ') {
      ++run;
      continue;
    }
    out.append(run / 2, ' ');
    run = 0;
    out.push_back(c);
  }
  out.append(run / 2, ' ');
  return out;
}

std::string revtok_detokenize(const std::vector<std::string>& tokens) {
  std::string joined;
  for (const auto& t : tokens) joined += t;
  return collapse_half_spaces(joined);
}

}  // namespace deca::text
