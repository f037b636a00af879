// QA-SRL 1.0 (wiki1.{train,dev,test}.qa): blocks of a sentence followed by
// predicate lines and question lines "slot<TAB>...?<TAB>answer ### answer".
#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/text/strings.h"
#include "deca/text/unicode.h"
#include "readers.h"

namespace fs = std::filesystem;

namespace deca::readers {
namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) { s = text::replace_all(s, from, to); }

// decaNLP's SRL.clean: PTB brackets back, detokenized punctuation, no quotes.
std::string clean(const std::string& raw) {
  std::string s = text::strip(text::collapse_ws(raw));
  replace_all(s, "-LRB-", "(");
  replace_all(s, "-RRB-", ")");
  replace_all(s, "-LAB-", "<");
  replace_all(s, "-RAB-", ">");
  replace_all(s, "-AMP-", "&");
  replace_all(s, "%pw", " ");
  for (const char* p :
       {" .", " ,", " ;", " !", " ?", " :", " )", " 'll", " n't ", " %", " 't", " 's", " 'm", " 'd", " 're"}) {
    std::string from(p);
    replace_all(s, from, from.substr(1));
  }
  for (const char* p : {"( ", "$ "}) {
    std::string from(p);
    replace_all(s, from, from.substr(0, from.size() - 1));
  }
  replace_all(s, " - ", "-");
  replace_all(s, "``", "");
  replace_all(s, "`", "");
  replace_all(s, "''", "");
  replace_all(s, "\u201c", "");
  replace_all(s, "\u201d", "");
  replace_all(s, " '", "");
  return text::strip(text::collapse_ws(s));
}

bool is_int(const std::string& s) {
  std::string t = s;
  size_t i = (t[0] == '+' || t[0] == '-') ? 1 : 0;
  if (i >= t.size()) return false;
  for (; i < t.size(); ++i)
    if (t[i] < '0' || t[i] > '9') return false;
  return true;
}

// First code point through str.lower()/str.upper() (upper only for ASCII).
std::string with_first(const std::string& s, bool lower) {
  std::u32string cps = text::decode_utf8(s);
  if (cps.empty()) return s;
  std::u32string first(1, cps[0]);
  if (lower)
    first = text::lower(first);
  else if (cps[0] >= U'a' && cps[0] <= U'z')
    first[0] = cps[0] - 32;
  return text::encode_utf8(first + cps.substr(1));
}

// decaNLP's repair of an answer that is not a substring of the sentence.
std::optional<std::string> fix_answer(const std::string& answer, const std::string& context) {
  if (context.find(answer) != std::string::npos) return answer;
  const std::string low = with_first(answer, true), up = with_first(answer, false);
  if (context.find(low) != std::string::npos) return low;
  if (context.find(up) != std::string::npos) return up;
  struct Fix {
    const char* contains;
    const char* replacement;
  };
  static const Fix kFixes[] = {{"Darcy Burner",
                                "Darcy Burner and other 2008 Democratic congressional candidates, in cooperation with "
                                "some retired national security officials"},
                               {"E Street Band", "plan to work with the E Street Band again in the future"},
                               {"an electric sender", "an electronic sender"},
                               {"the US army", "the US Army"},
                               {"Rather than name the", "rather die than name the cause of his disease to his father"}};
  for (const auto& f : kFixes)
    if (answer.find(f.contains) != std::string::npos) return std::string(f.replacement);
  const std::string lowered = text::lower(answer);
  if (context.find(lowered) != std::string::npos) return lowered;
  return std::nullopt;
}

}  // namespace

std::vector<Example> srl(const ReadContext& ctx) {
  const char* name = ctx.split() == Split::Train ? "train" : ctx.split() == Split::Validation ? "dev" : "test";
  const fs::path file = ctx.data_root() / "srl" / (std::string("wiki1.") + name + ".qa");
  require_file(
      file, "download wiki1.train.qa, wiki1.dev.qa and wiki1.test.qa (QA-SRL 1.0, dada.cs.washington.edu/qasrl) into " +
                (ctx.data_root() / "srl").string());
  // Keep blank lines, sentences and question lines; drop headers and predicate lines.
  std::vector<std::pair<std::string, long>> lines;
  for_each_line(file, [&](std::string_view raw, long n) {
    std::string line = text::strip(text::collapse_ws(raw));
    if (line.empty()) {
      lines.emplace_back(line, n);
      return;
    }
    if (line.substr(0, line.find('_')).find("WIKI1") != std::string::npos) return;
    const auto fields = text::split_ws(line);
    if (is_int(fields[0]) && fields.size() <= 3) return;
    lines.emplace_back(line, n);
  });
  std::vector<Example> out;
  bool new_block = true;
  std::string context;
  for (const auto& [line, n] : lines) {
    if (new_block) {
      context = clean(line);
      new_block = false;
      continue;
    }
    if (line.empty()) {
      new_block = true;
      continue;
    }
    const size_t q = line.find('?');
    if (q == std::string::npos || line.find('?', q + 1) != std::string::npos) {
      ctx.bad(file, n, "expected a question line with exactly one '?' between the question slots and the answers");
      continue;
    }
    std::string slots = line.substr(0, q);
    replace_all(slots, " _", "");
    const std::string question = clean(slots + "?");
    std::vector<std::string> answers;
    const std::string rest = line.substr(q + 1);
    size_t pos = 0;
    while (true) {
      size_t hit = rest.find("###", pos);
      answers.push_back(clean(rest.substr(pos, hit == std::string::npos ? std::string::npos : hit - pos)));
      if (hit == std::string::npos) break;
      pos = hit + 3;
    }
    // The target is the first answer; every answer is repaired the same way.
    bool ok = true;
    for (auto& a : answers) {
      auto fixed = a.empty() ? std::nullopt : fix_answer(a, context);
      if (!fixed) {
        ctx.bad(file, n, "answer \"" + a + "\" does not occur in the sentence \"" + context + "\"");
        ok = false;
        break;
      }
      a = *fixed;
    }
    if (ok) add(out, ctx, context, question, std::move(answers));
  }
  return out;
}

}  // namespace deca::readers
