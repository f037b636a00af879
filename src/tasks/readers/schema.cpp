// MWSC (schema.txt): blocks of sentence, question and "answer/answer"
// separated by blank lines; each [a/b] group yields two examples.
#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/core/log.h"
#include "deca/text/strings.h"
#include "deca/text/unicode.h"
#include "readers.h"

namespace fs = std::filesystem;

namespace deca::readers {
namespace {

std::vector<std::string> split_slash(const std::string& s) { return text::split(s, '/'); }

// Both variants of a line, with decaNLP's greedy regex \[.*\]: the group runs
// from the first '[' to the last ']' of the line.
std::optional<std::array<std::string, 2>> variants(const std::string& line) {
  const size_t open = line.find('[');
  const size_t close = line.rfind(']');
  if (open == std::string::npos || close == std::string::npos || close < open)
    return std::array<std::string, 2>{line, line};
  const auto options = split_slash(line.substr(open + 1, close - open - 1));
  if (options.size() < 2) return std::nullopt;
  const std::string before = line.substr(0, open), after = line.substr(close + 1);
  return std::array<std::string, 2>{before + options[0] + after, before + options[1] + after};
}

}  // namespace

std::vector<Example> schema(const ReadContext& ctx) {
  const fs::path file = ctx.data_root() / "schema" / "schema.txt";
  require_file(file,
               "download schema.txt (decaNLP's local_data/schema.txt) into " + (ctx.data_root() / "schema").string());
  struct Block {
    std::vector<std::string> lines;
    long first_line = 0;
  };
  std::vector<Block> blocks;
  Block current;
  for_each_line(file, [&](std::string_view raw, long n) {
    if (!valid_utf8_line(ctx, file, n, raw)) return;
    if (text::split_ws(raw).empty()) {
      // As decaNLP: a block is kept when a blank line follows it, so a final
      // block without a trailing blank line is not used.
      if (!current.lines.empty()) blocks.push_back(std::move(current));
      current = Block{};
      return;
    }
    if (current.lines.empty()) current.first_line = n;
    current.lines.push_back(text::strip(raw));
  });
  if (!current.lines.empty())
    log::warn_once(
        "{}:{}: the last block has no blank line after it and is not used (as in decaNLP); is the file cut short?",
        file.string(), current.first_line);
  struct Triple {
    std::string context, question, answer;
  };
  std::vector<Triple> all;
  for (const auto& b : blocks) {
    if (b.lines.size() != 3) {
      ctx.bad(
          file, b.first_line,
          "expected a block of 3 lines (sentence, question, answers \"a/b\"), found " + std::to_string(b.lines.size()));
      continue;
    }
    const auto contexts = variants(b.lines[0]);
    const auto questions = variants(b.lines[1]);
    const auto answers = split_slash(b.lines[2]);
    if (!contexts || !questions || answers.size() < 2) {
      ctx.bad(file, b.first_line, "expected one [a/b] alternation per line and answers \"a/b\"");
      continue;
    }
    for (int i = 0; i < 2; ++i)
      all.push_back({(*contexts)[i], (*questions)[i] + " " + answers[0] + " or " + answers[1] + "?", answers[i]});
  }
  // decaNLP's split: the last 100 examples are test, the first 80 train, the rest validation.
  const size_t n = all.size();
  const size_t test_begin = n > 100 ? n - 100 : 0;
  size_t begin = 0, end = 0;
  switch (ctx.split()) {
    case Split::Train:
      begin = 0, end = std::min<size_t>(80, test_begin);
      break;
    case Split::Validation:
      begin = std::min<size_t>(80, test_begin), end = test_begin;
      break;
    case Split::Test:
      begin = test_begin, end = n;
      break;
  }
  if (begin == end)
    throw DataError::at(file.string(), 0,
                        "holds " + std::to_string(n) + " examples, too few for a " + to_string(ctx.split()) +
                            " split (decaNLP's split: the first 80 train, the last 100 test, the rest "
                            "validation): is the file cut short?");
  std::vector<Example> out;
  for (size_t i = begin; i < end; ++i) add(out, ctx, all[i].context, all[i].question, {all[i].answer});
  return out;
}

}  // namespace deca::readers
