#include <sstream>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/text/unicode.h"
#include "readers.h"

namespace fs = std::filesystem;

namespace deca::readers {
namespace {

// Line and column (1-based) of a byte offset.
std::pair<long, long> line_col(std::string_view text, size_t offset) {
  long line = 1, col = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

}  // namespace

nlohmann::json parse_json_file(const fs::path& path) {
  const std::string text = read_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    auto [line, col] = line_col(text, e.byte > 0 ? e.byte - 1 : 0);
    throw DataError::at(path.string(), line,
                        "column " + std::to_string(col) + ": invalid JSON (" + std::string(e.what()) + ")");
  } catch (const nlohmann::json::exception& e) {  // e.g. a number out of range
    throw DataError::at(path.string(), 0, std::string("invalid JSON (") + e.what() + ")");
  }
}

nlohmann::json parse_json_line(const ReadContext& ctx, const fs::path& file, long line_number, std::string_view line) {
  try {
    return nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    ctx.bad(file, line_number, "expected one JSON object per line: " + std::string(e.what()));
    return nlohmann::json::value_t::discarded;
  }
}

const std::string* string_field(const ReadContext& ctx, const fs::path& file, long line, const nlohmann::json& obj,
                                const char* key) {
  if (!obj.is_object()) {
    ctx.bad(file, line, "expected a JSON object");
    return nullptr;
  }
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) {
    ctx.bad(file, line, std::string("expected a string field \"") + key + "\"");
    return nullptr;
  }
  return it->get_ptr<const std::string*>();
}

bool valid_utf8_line(const ReadContext& ctx, const fs::path& file, long line_number, std::string_view line) {
  if (text::valid_utf8(line)) return true;
  ctx.bad(file, line_number, "not valid UTF-8 (convert the file to UTF-8, e.g. iconv -f latin1 -t utf-8)");
  return false;
}

std::vector<std::string> parse_csv_line(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false, at_start = true;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          fields.back().push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        fields.back().push_back(c);
      }
    } else if (c == ',') {
      fields.emplace_back();
      at_start = true;
      continue;
    } else if (c == '"' && at_start) {
      quoted = true;
    } else {
      fields.back().push_back(c);
    }
    at_start = false;
  }
  return fields;
}

void add(std::vector<Example>& out, const ReadContext& ctx, std::string context, std::string question,
         std::vector<std::string> answers, nlohmann::json meta) {
  Example ex;
  ex.task = ctx.task();
  ex.id = std::to_string(out.size());
  ex.context = std::move(context);
  ex.question = std::move(question);
  ex.answers = std::move(answers);
  ex.meta = std::move(meta);
  out.push_back(std::move(ex));
}

}  // namespace deca::readers
