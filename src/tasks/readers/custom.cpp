// Custom tasks: <root>/<name>/{train,validation,test}.jsonl, one
// {"context", "question", "answer"} object per line ("answer" may be a list of
// acceptable answers, the first being the target; "id" is optional).
#include "deca/core/error.h"
#include "deca/core/io.h"
#include "readers.h"

namespace fs = std::filesystem;

namespace deca::readers {

fs::path custom_split_file(const fs::path& folder, Split split) {
  if (split == Split::Validation && !fs::exists(folder / "validation.jsonl") && fs::exists(folder / "val.jsonl"))
    return folder / "val.jsonl";  // decaNLP's name
  return folder / (std::string(to_string(split)) + ".jsonl");
}

std::vector<Example> custom(const ReadContext& ctx) {
  const fs::path folder = ctx.data_root() / ctx.task();
  const fs::path file = custom_split_file(folder, ctx.split());
  if (!fs::exists(file)) {
    // CoNLL column files without their task.json are a tagging task missing it, not a custom task.
    for (const char* conll : {"train.txt", "dev.txt", "validation.txt", "test.txt"})
      if (fs::exists(folder / conll))
        throw DataError(
            "missing file " + (folder / "task.json").string() + ": " + (folder / conll).string() +
            " looks like CoNLL column files, and a tagging task needs a task.json beside them: {\"format\": "
            "\"conll\", \"questions\": {\"TYPE\": \"Which words are ...?\", ...}} (README.md, \"New tasks "
            "without code\"); a custom task is train.jsonl, validation.jsonl and test.jsonl instead");
  }
  require_file(file,
               "a custom task is a folder with train.jsonl, validation.jsonl and test.jsonl, one "
               "{\"context\", \"question\", \"answer\"} object per line");
  std::vector<Example> out;
  for_each_line(file, [&](std::string_view line, long n) {
    if (line.find_first_not_of(" \t") == std::string_view::npos) return;
    const auto j = parse_json_line(ctx, file, n, line);
    if (j.is_discarded()) return;
    const std::string* context = string_field(ctx, file, n, j, "context");
    const std::string* question = context ? string_field(ctx, file, n, j, "question") : nullptr;
    if (!question) return;
    std::vector<std::string> answers;
    const auto a = j.find("answer");
    if (a != j.end() && a->is_string()) {
      answers.push_back(*a);
    } else if (a != j.end() && a->is_array() && !a->empty()) {
      for (const auto& x : *a) {
        if (!x.is_string()) {
          answers.clear();
          break;
        }
        answers.push_back(x);
      }
    }
    if (answers.empty()) {
      ctx.bad(file, n, "expected \"answer\": a string or a non-empty list of strings");
      return;
    }
    add(out, ctx, *context, *question, std::move(answers));
    if (auto id = j.find("id"); id != j.end() && (id->is_string() || id->is_number_integer()))
      out.back().id = id->is_string() ? id->get<std::string>() : id->dump();
  });
  return out;
}

}  // namespace deca::readers
