// The readers of the tasks' original files (one file each) and the helpers they share.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "deca/tasks/task.h"

namespace fs = std::filesystem;

namespace deca::readers {

std::vector<Example> squad(const ReadContext& ctx, bool version2);
// Language codes as in the task name, e.g. "en", "de".
std::vector<Example> iwslt(const ReadContext& ctx, const std::string& source, const std::string& target);
// Sources read in order, e.g. {"cnn", "dailymail"}.
std::vector<Example> cnn_dailymail(const ReadContext& ctx, const std::vector<std::string>& sources);
// Validation subtasks to keep: "in" (matched), "out" (mismatched).
std::vector<Example> multinli(const ReadContext& ctx, const std::vector<std::string>& subtasks);
std::vector<Example> sst(const ReadContext& ctx);
std::vector<Example> srl(const ReadContext& ctx);
std::vector<Example> zre(const ReadContext& ctx);
std::vector<Example> woz(const ReadContext& ctx, const std::string& language);
std::vector<Example> wikisql(const ReadContext& ctx);
std::vector<Example> schema(const ReadContext& ctx);
// A folder <root>/<name>/ with train.jsonl, validation.jsonl (or val.jsonl), test.jsonl.
std::vector<Example> custom(const ReadContext& ctx);
fs::path custom_split_file(const fs::path& folder, Split split);

// A tagging task: a folder <root>/<name>/ with task.json, {"format": "conll",
// "questions": {"<TYPE>": "<question>", ...}[, "separator": "; "][, "tag_column": -1]},
// and train.txt, validation.txt (or dev.txt), test.txt in CoNLL columns.
struct TaggingSpec {
  std::vector<std::pair<std::string, std::string>> questions;  // entity type -> question, in the file's order
  std::string separator = "; ";                                // between an answer's entities
  long tag_column = -1;                                        // 0-based; negative: from the end
};
// Reads task.json; errors are ConfigErrors naming the file and key.
TaggingSpec tagging_spec(const fs::path& task_json);
fs::path tagging_split_file(const fs::path& folder, Split split);
// Per sentence and entity type, in order: the sentence as context, the type's
// question, its entities in order joined by the separator ("none" without).
std::vector<Example> tagging(const ReadContext& ctx, const TaggingSpec& spec);

// ---- shared helpers ----------------------------------------------------------

// Parses a whole JSON file; a syntax error names file, line and column.
nlohmann::json parse_json_file(const fs::path& path);
// Parses one JSON line; a syntax error is reported through ctx.bad() and
// returns a discarded value.
nlohmann::json parse_json_line(const ReadContext& ctx, const fs::path& file, long line_number, std::string_view line);
// A required string field of a JSON object, or nullptr after ctx.bad().
const std::string* string_field(const ReadContext& ctx, const fs::path& file, long line, const nlohmann::json& obj,
                                const char* key);
// True when `line` is valid UTF-8; otherwise reports a bad record
// (Latin-1 and other encodings would silently become U+FFFD).
bool valid_utf8_line(const ReadContext& ctx, const fs::path& file, long line_number, std::string_view line);
// Python's csv.reader on one line (comma, double quotes, "" escapes).
std::vector<std::string> parse_csv_line(std::string_view line);
// Appends an example with id = its position.
void add(std::vector<Example>& out, const ReadContext& ctx, std::string context, std::string question,
         std::vector<std::string> answers, nlohmann::json meta = nlohmann::json::object());

}  // namespace deca::readers
