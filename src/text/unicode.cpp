#include "deca/text/unicode.h"

#include <algorithm>
#include <cstdint>
#include <iterator>

namespace deca::text {
namespace {

struct CodeRange {
  char32_t first, last;
};
struct CodeMap {
  char32_t from, to;
};
struct CodeExpansion {
  char32_t from;
  char32_t to[3];
};

#include "unicode_tables.inc"

template <size_t N>
bool in_ranges(const CodeRange (&table)[N], char32_t cp) {
  auto it = std::upper_bound(std::begin(table), std::end(table), cp,
                             [](char32_t c, const CodeRange& r) { return c < r.first; });
  if (it == std::begin(table)) return false;
  --it;
  return cp <= it->last;
}

// Appends the str.lower() of one code point.
void append_lower(std::u32string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
    return;
  }
  auto it = std::lower_bound(std::begin(kLower), std::end(kLower), cp,
                             [](const CodeMap& m, char32_t c) { return m.from < c; });
  if (it != std::end(kLower) && it->from == cp) {
    out.push_back(it->to);
    return;
  }
  for (const auto& e : kLowerMulti) {
    if (e.from == cp) {
      for (char32_t c : e.to)
        if (c) out.push_back(c);
      return;
    }
  }
  out.push_back(cp);
}

}  // namespace

std::u32string decode_utf8(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out.push_back(c);
      ++i;
      continue;
    }
    int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (len == 0 || c > 0xF4 || i + len > n) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    char32_t cp = c & (0x3F >> (len - 1));
    bool ok = true;
    for (int k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (!ok || cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

bool valid_utf8(std::string_view s) {
  const std::u32string cps = decode_utf8(s);
  if (std::find(cps.begin(), cps.end(), char32_t{0xFFFD}) == cps.end()) return true;
  // U+FFFD may also be genuine; compare the round trip.
  return encode_utf8(cps) == s;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string encode_utf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t cp : s) append_utf8(out, cp);
  return out;
}

bool is_space(char32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F);
  return in_ranges(kSpace, cp);
}

int revtok_priority(char32_t cp) {
  if (cp < 0x80) {
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) return 7;
    if (cp >= '0' && cp <= '9') return 5;
  }
  auto it = std::upper_bound(std::begin(kRevtokPriority), std::end(kRevtokPriority), cp,
                             [](char32_t c, const PriorityRange& r) { return c < r.first; });
  return it == std::begin(kRevtokPriority) ? -3 : std::prev(it)->priority;
}

bool is_word(char32_t cp) {
  if (cp < 0x80) {
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') || cp == '_';
  }
  return in_ranges(kWord, cp);
}

std::u32string lower(std::u32string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (char32_t cp : s) append_lower(out, cp);
  return out;
}

std::string lower(std::string_view s) {
  bool ascii = std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) {
    std::string out(s);
    for (char& c : out)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    return out;
  }
  return encode_utf8(lower(decode_utf8(s)));
}

namespace {
// Byte length of the code point starting at s[i] and whether it is whitespace.
bool space_at(std::string_view s, size_t i, size_t* len) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    *len = 1;
    return is_space(c);
  }
  size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
  if (i + n > s.size()) n = 1;
  std::u32string cp = decode_utf8(s.substr(i, n));
  *len = n;
  return cp.size() == 1 && is_space(cp[0]);
}
}  // namespace

std::vector<std::string> split_ws(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0, start = std::string_view::npos;
  while (i < s.size()) {
    size_t len;
    bool sp = space_at(s, i, &len);
    if (sp) {
      if (start != std::string_view::npos) {
        out.emplace_back(s.substr(start, i - start));
        start = std::string_view::npos;
      }
    } else if (start == std::string_view::npos) {
      start = i;
    }
    i += len;
  }
  if (start != std::string_view::npos) out.emplace_back(s.substr(start));
  return out;
}

std::string rstrip(std::string_view s) {
  size_t end = 0, i = 0;
  while (i < s.size()) {
    size_t len;
    if (!space_at(s, i, &len)) end = i + len;
    i += len;
  }
  return std::string(s.substr(0, end));
}

std::string strip(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t len;
    if (!space_at(s, i, &len)) break;
    i += len;
  }
  return rstrip(s.substr(i));
}

std::string collapse_ws(std::string_view s) {
  std::string out;
  for (const auto& w : split_ws(s)) {
    if (!out.empty()) out.push_back(' ');
    out += w;
  }
  return out;
}

namespace {

constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

unsigned char combining_class(char32_t cp) {
  if (cp < 0x300) return 0;
  auto it = std::lower_bound(std::begin(kCombiningClass), std::end(kCombiningClass), cp,
                             [](const CombiningClass& c, char32_t x) { return c.cp < x; });
  return it != std::end(kCombiningClass) && it->cp == cp ? it->ccc : 0;
}

void decompose(char32_t cp, std::u32string& out) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    const char32_t s = cp - kSBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount) out.push_back(kTBase + s % kTCount);
    return;
  }
  auto it = std::lower_bound(std::begin(kNfkd), std::end(kNfkd), cp,
                             [](const Decomposition& d, char32_t x) { return d.cp < x; });
  if (it != std::end(kNfkd) && it->cp == cp) {
    out.append(kNfkdData + it->offset, it->length);
  } else {
    out.push_back(cp);
  }
}

// The primary composite of (a, b), or 0.
char32_t compose(char32_t a, char32_t b) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase && b < kTBase + kTCount)
    return a + (b - kTBase);
  auto it = std::lower_bound(std::begin(kCompose), std::end(kCompose), std::make_pair(a, b),
                             [](const Composition& c, const std::pair<char32_t, char32_t>& x) {
                               return std::make_pair(c.first, c.second) < x;
                             });
  return it != std::end(kCompose) && it->first == a && it->second == b ? it->composite : 0;
}

}  // namespace

std::string nfkc(std::string_view s) {
  if (std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
    return std::string(s);
  std::u32string d;
  for (char32_t cp : decode_utf8(s)) decompose(cp, d);
  // Canonical ordering: stable sort of each run of non-starters by class.
  for (size_t i = 0; i < d.size();) {
    if (combining_class(d[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < d.size() && combining_class(d[j]) != 0) ++j;
    std::stable_sort(d.begin() + static_cast<long>(i), d.begin() + static_cast<long>(j),
                     [](char32_t a, char32_t b) { return combining_class(a) < combining_class(b); });
    i = j;
  }
  // Canonical composition.
  if (d.empty()) return {};
  size_t starter = 0, out = 1;
  int last_class = combining_class(d[0]) ? 256 : 0;
  for (size_t i = 1; i < d.size(); ++i) {
    const char32_t ch = d[i];
    const int cls = combining_class(ch);
    const char32_t composite = compose(d[starter], ch);
    if (composite && (last_class < cls || last_class == 0)) {
      d[starter] = composite;
      continue;
    }
    if (cls == 0) starter = out;
    last_class = cls;
    d[out++] = ch;
  }
  d.resize(out);
  return encode_utf8(d);
}

}  // namespace deca::text
