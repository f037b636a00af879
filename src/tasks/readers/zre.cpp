// QA-ZRE (relation_splits fold 0): relation<TAB>question template<TAB>subject<TAB>sentence[<TAB>answer]*.
#include "deca/core/error.h"
#include "deca/core/io.h"
#include "readers.h"

namespace deca::readers {
namespace {
std::vector<std::string> split_tabs(std::string_view line) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    size_t t = line.find('\t', pos);
    out.emplace_back(line.substr(pos, t == std::string_view::npos ? std::string_view::npos : t - pos));
    if (t == std::string_view::npos) return out;
    pos = t + 1;
  }
}
void replace_all(std::string& s, const std::string& from, const std::string& to) {
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
}
}  // namespace

std::vector<Example> zre(const ReadContext& ctx) {
  const char* name = ctx.split() == Split::Train ? "train" : ctx.split() == Split::Validation ? "dev" : "test";
  const fs::path file = ctx.data_root() / "zre" / "relation_splits" / (std::string(name) + ".0");
  require_file(file, "download relation_splits.tar.bz2 (nlp.cs.washington.edu/zeroshot) and unpack it into " +
                         (ctx.data_root() / "zre").string());
  std::vector<Example> out;
  for_each_line(file, [&](std::string_view line, long n) {
    const auto f = split_tabs(line);
    if (f.size() < 4) {
      ctx.bad(file, n, "expected relation, question template, subject and sentence separated by tabs, then the answers");
      return;
    }
    std::string question = f[1];
    replace_all(question, "XXX", f[2]);
    std::string answer;
    for (size_t i = 4; i < f.size(); ++i) answer += (i > 4 ? ", " : "") + f[i];
    add(out, ctx, f[3], question, {f.size() == 4 ? std::string("unanswerable") : answer});
  });
  return out;
}

}  // namespace deca::readers
