// The Python-compatible text helpers that readers and metrics rely on.
#include "deca/text/unicode.h"

#include <gtest/gtest.h>

namespace t = deca::text;

TEST(Unicode, LowerMatchesPython) {
  EXPECT_EQ(t::lower("ÄÖÜ ẞ İ Straße"), "äöü ß i̇ straße");
  EXPECT_EQ(t::lower("ABC def"), "abc def");
}

TEST(Unicode, SplitAndStripUsePythonWhitespace) {
  const auto parts = t::split_ws(" a\tb\u00a0c\u3000d\ufeffe  ");
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[3], "d\ufeffe");  // U+FEFF is not whitespace
  EXPECT_EQ(t::strip("\u00a0 x y \n"), "x y");
  EXPECT_EQ(t::collapse_ws("  a \n b  "), "a b");
}

TEST(Unicode, NfkcMatchesUnicodedata) {
  // Values from Python's unicodedata.normalize("NFKC", ...).
  EXPECT_EQ(t::nfkc("caf\u0065\u0301"), "caf\u00e9");
  EXPECT_EQ(t::nfkc("\ufb01ne \u2026 \u00bd \u00a0x"), "fine ... 1\u20442  x");
  EXPECT_EQ(t::nfkc("\uff21\uff42"), "Ab");
  EXPECT_EQ(t::nfkc("\u1100\u1161\u11a8"), "\uac01");
  EXPECT_EQ(t::nfkc("a\u0323\u0307"), "\u1ea1\u0307");  // ccc ordering then composition
  EXPECT_EQ(t::nfkc("plain ascii"), "plain ascii");
}
