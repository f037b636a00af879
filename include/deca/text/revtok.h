// decaNLP's reversible tokenizer (jekbradbury/revtok; docs/decisions.md, Data): text is
// split into words, numbers, symbol runs and single punctuation marks, and
// every space is kept inside the tokens as two "half spaces", one on each side
// of the boundary, so that detokenize(tokenize(x)) == x for any text and a word
// is the same token wherever it appears (" lisbon " in "in lisbon" and in
// "(lisbon)").
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace deca::text {

std::vector<std::string> revtok_tokenize(std::string_view text);

// Concatenates the tokens; every run of k spaces becomes k / 2 spaces.
std::string revtok_detokenize(const std::vector<std::string>& tokens);
// The same rule on text already concatenated.
std::string collapse_half_spaces(std::string_view joined);

// Number of tokens of `text` (revtok_tokenize(text).size() without building them).
size_t revtok_count(std::string_view text);

}  // namespace deca::text
