// MultiNLI 1.0: multinli_1.0_train.jsonl; validation = dev_matched ("in")
// followed by dev_mismatched ("out").
#include "deca/core/error.h"
#include "deca/core/io.h"
#include "readers.h"

namespace fs = std::filesystem;

namespace deca::readers {

std::vector<Example> multinli(const ReadContext& ctx, const std::vector<std::string>& subtasks) {
  if (ctx.split() == Split::Test)
    throw ConfigError("task " + ctx.task() + " has no test split: the MultiNLI test labels are hidden (Kaggle)");
  const fs::path dir = ctx.data_root() / "multinli" / "multinli_1.0";
  const std::string how = "download multinli_1.0.zip (cims.nyu.edu/~sbowman/multinli) and unpack it into " +
                          (ctx.data_root() / "multinli").string();
  std::vector<std::pair<fs::path, std::string>> files;
  if (ctx.split() == Split::Train) {
    files.emplace_back(dir / "multinli_1.0_train.jsonl", "multinli");
  } else {
    for (const auto& s : subtasks) {
      if (s == "in")
        files.emplace_back(dir / "multinli_1.0_dev_matched.jsonl", "in");
      else if (s == "out")
        files.emplace_back(dir / "multinli_1.0_dev_mismatched.jsonl", "out");
    }
  }
  std::vector<Example> out;
  for (const auto& entry : files) {
    const fs::path& file = entry.first;  // not a structured binding: lambdas capture it (C++17)
    const std::string& subtask = entry.second;
    require_file(file, how);
    for_each_line(file, [&](std::string_view line, long n) {
      if (line.find_first_not_of(" \t") == std::string_view::npos) return;
      const auto j = parse_json_line(ctx, file, n, line);
      if (j.is_discarded()) return;
      const std::string* s1 = string_field(ctx, file, n, j, "sentence1");
      const std::string* s2 = s1 ? string_field(ctx, file, n, j, "sentence2") : nullptr;
      const std::string* label = s2 ? string_field(ctx, file, n, j, "gold_label") : nullptr;
      if (!label) return;
      add(out, ctx, "Premise: \"" + *s1 + "\"", "Hypothesis: \"" + *s2 + "\" -- entailment, neutral, or contradiction?",
          {*label}, {{"subtask", subtask}});
    });
  }
  return out;
}

}  // namespace deca::readers
