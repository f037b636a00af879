// QA-ZRE (relation_splits fold 0): relation<TAB>question template<TAB>subject<TAB>sentence[<TAB>answer]*.
#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/text/strings.h"
#include "readers.h"

namespace fs = std::filesystem;

namespace deca::readers {

std::vector<Example> zre(const ReadContext& ctx) {
  const char* name = ctx.split() == Split::Train ? "train" : ctx.split() == Split::Validation ? "dev" : "test";
  const fs::path file = ctx.data_root() / "zre" / "relation_splits" / (std::string(name) + ".0");
  require_file(file, "download relation_splits.tar.bz2 (nlp.cs.washington.edu/zeroshot) and unpack it into " +
                         (ctx.data_root() / "zre").string());
  std::vector<Example> out;
  for_each_line(file, [&](std::string_view line, long n) {
    const auto f = text::split(line, '\t');
    if (f.size() < 4) {
      ctx.bad(file, n,
              "expected relation, question template, subject and sentence separated by tabs, then the answers");
      return;
    }
    const std::string question = text::replace_all(f[1], "XXX", f[2]);
    std::string answer;
    for (size_t i = 4; i < f.size(); ++i) answer += (i > 4 ? ", " : "") + f[i];
    add(out, ctx, f[3], question, {f.size() == 4 ? std::string("unanswerable") : answer});
  });
  return out;
}

}  // namespace deca::readers
