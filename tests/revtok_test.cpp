// decaNLP's reversible tokenizer: the reference's examples (verified there by
// running revtok) and the round trip on text of every shape.
#include <gtest/gtest.h>

#include "deca/text/revtok.h"

namespace {

using Tokens = std::vector<std::string>;

TEST(Revtok, ReferenceExamples) {
  using deca::text::revtok_tokenize;
  EXPECT_EQ(revtok_tokenize("context:"), (Tokens{" context ", ": "}));
  EXPECT_EQ(revtok_tokenize("what is the change in state?"),
            (Tokens{" what ", " is ", " the ", " change ", " in ", " state ", "? "}));
  EXPECT_EQ(revtok_tokenize("u.s."), (Tokens{" u ", ".", " s ", ". "}));
  EXPECT_EQ(revtok_tokenize("premise: \"a man sleeps.\""),
            (Tokens{" premise ", ": ", " \"", " a ", " man ", " sleeps ", ". ", "\" "}));
  EXPECT_EQ(revtok_tokenize("a  b"), (Tokens{" a ", "  ", " b "}));
}

TEST(Revtok, AWordIsOneTokenWhereverItAppears) {
  using deca::text::revtok_tokenize;
  EXPECT_EQ(revtok_tokenize("(lisbon)"), (Tokens{" (", " lisbon ", ") "}));
  EXPECT_EQ(revtok_tokenize("in lisbon"), (Tokens{" in ", " lisbon "}));
  EXPECT_EQ(revtok_tokenize("anti-lisbon"), (Tokens{" anti ", "-", " lisbon "}));
  EXPECT_EQ(revtok_tokenize("1990s"), (Tokens{" 1990", " s "}));  // numbers then letters: two tokens
  EXPECT_TRUE(revtok_tokenize("").empty());
}

TEST(Revtok, DetokenizeInvertsTokenize) {
  for (const std::string s :
       {"", " ", "  ", "   a", "a ", "a\tb", "\t\t", "x\n\ny", "(lisbon)", "?!", "...", "$5.00", "don't", "e-mail",
        "a\xc2\xa0 b", "caf\xc3\xa9 \xcc\x81", "\xff bad", "東京タワー", "🚀🚀"}) {
    const auto tokens = deca::text::revtok_tokenize(s);
    EXPECT_EQ(deca::text::revtok_detokenize(tokens), s) << "[" << s << "]";
    EXPECT_EQ(deca::text::revtok_count(s), tokens.size()) << "[" << s << "]";
  }
}

}  // namespace
