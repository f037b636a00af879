// SST binary: {train,dev,test}_binary_sent.csv with a header line "label,sentence".
#include "deca/core/error.h"
#include "deca/core/io.h"
#include "readers.h"

namespace fs = std::filesystem;

namespace deca::readers {

std::vector<Example> sst(const ReadContext& ctx) {
  const char* name = ctx.split() == Split::Train ? "train" : ctx.split() == Split::Validation ? "dev" : "test";
  const fs::path file = ctx.data_root() / "sst" / (std::string(name) + "_binary_sent.csv");
  require_file(
      file,
      "download train/dev/test_binary_sent.csv from openai/generating-reviews-discovering-sentiment (data/) into " +
          (ctx.data_root() / "sst").string());
  std::vector<Example> out;
  for_each_line(file, [&](std::string_view line, long n) {
    if (!valid_utf8_line(ctx, file, n, line)) return;
    if (n == 1) {
      // decaNLP skips the first line unread: it must be the header, or an example would be lost.
      if (line != "label,sentence") ctx.bad(file, n, "expected the header line \"label,sentence\"");
      return;
    }
    const auto fields = parse_csv_line(line);
    if (fields.size() != 2 || (fields[0] != "0" && fields[0] != "1")) {
      ctx.bad(file, n,
              "expected \"label,sentence\" with label 0 or 1 and the sentence quoted when it holds commas (found " +
                  std::to_string(fields.size()) + " fields)");
      return;
    }
    add(out, ctx, fields[1], "Is this review negative or positive?", {fields[0] == "0" ? "negative" : "positive"});
  });
  return out;
}

}  // namespace deca::readers
