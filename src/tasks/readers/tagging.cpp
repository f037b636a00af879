// Tagging tasks as questions: CoNLL column files (one token per line, its tag
// in a column, blank lines between sentences), each sentence asked once per
// entity type of the task's task.json.
#include <cctype>
#include <fstream>

#include "deca/core/config.h"
#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/metrics/metrics.h"
#include "readers.h"

namespace deca::readers {
namespace {

// Whitespace-separated columns.
std::vector<std::string_view> columns(std::string_view line) {
  std::vector<std::string_view> out;
  size_t at = 0;
  while (at < line.size()) {
    const size_t b = line.find_first_not_of(" \t\r", at);
    if (b == std::string_view::npos) break;
    const size_t e = std::min(line.find_first_of(" \t\r", b), line.size());
    out.push_back(line.substr(b, e - b));
    at = e;
  }
  return out;
}

}  // namespace

TaggingSpec tagging_spec(const fs::path& task_json) {
  const auto fail = [&](const std::string& what) { return ConfigError(task_json.string() + ": " + what); };
  nlohmann::ordered_json j;
  const std::string text = read_file(task_json);
  try {
    parse_json_strict(text);  // a repeated key (an entity type given twice) is an error, not "the later one wins"
    j = nlohmann::ordered_json::parse(text);
  } catch (const ConfigError& e) {
    throw fail(e.what());
  } catch (const nlohmann::json::exception& e) {
    throw fail(std::string("invalid JSON (") + e.what() + ")");
  }
  if (!j.is_object()) throw fail("expected an object");
  TaggingSpec spec;
  for (const auto& [key, value] : j.items()) {
    if (key == "format") {
      if (value != "conll") throw fail("\"format\": expected \"conll\" (CoNLL column files), got " + value.dump());
    } else if (key == "questions") {
      if (!value.is_object() || value.empty())
        throw fail(
            "\"questions\": expected an object of entity type -> question, e.g. {\"LOC\": \"Which words are "
            "locations?\"}");
      for (const auto& [type, question] : value.items()) {
        if (!question.is_string() || question.get<std::string>().empty())
          throw fail("\"questions\".\"" + type + "\": expected a question (a non-empty string)");
        // The model tells the types apart by their questions alone.
        for (const auto& [other, asked] : spec.questions)
          if (asked == question.get<std::string>())
            throw fail("\"questions\": " + other + " and " + type +
                       " ask the same question; each entity type needs its own");
        spec.questions.emplace_back(type, question.get<std::string>());
      }
    } else if (key == "separator") {
      if (!value.is_string() || value.get<std::string>().find_first_not_of(' ') == std::string::npos)
        throw fail("\"separator\": expected a string with more than spaces, e.g. \"; \"");
      // A separator that begins or ends with a letter or digit glues entities
      // into words ("and": "TomandJerry"), which cannot be split back.
      const std::string sep = value.get<std::string>();
      if (std::isalnum(static_cast<unsigned char>(sep.front())) || std::isalnum(static_cast<unsigned char>(sep.back())))
        throw fail("\"separator\": " + value.dump() +
                   " begins or ends with a letter or digit, which would glue entities "
                   "into one word; surround it with spaces (\" " +
                   sep + " \") or use punctuation (\"; \")");
      spec.separator = value.get<std::string>();
    } else if (key == "tag_column") {
      if (!value.is_number_integer())
        throw fail("\"tag_column\": expected an integer (0-based; negative counts from the end)");
      spec.tag_column = value.get<long>();
    } else {
      throw fail("unknown key \"" + key + "\" (known: format, questions, separator, tag_column)");
    }
  }
  if (!j.contains("format")) throw fail("needs \"format\": \"conll\"");
  if (spec.questions.empty()) throw fail("needs \"questions\": one question per entity type");
  return spec;
}

fs::path tagging_split_file(const fs::path& folder, Split split) {
  if (split == Split::Validation && !fs::exists(folder / "validation.txt") && fs::exists(folder / "dev.txt"))
    return folder / "dev.txt";
  return folder / (std::string(to_string(split)) + ".txt");
}

std::vector<Example> tagging(const ReadContext& ctx, const TaggingSpec& spec) {
  const fs::path file = tagging_split_file(ctx.data_root() / ctx.task(), ctx.split());
  require_file(file,
               "a tagging task is a folder with task.json and train.txt, validation.txt and test.txt in the CoNLL "
               "column format (one token and its tag per line, blank lines between sentences)");
  std::vector<Example> out;
  std::vector<std::string> tokens, tags;
  long sentence = 0, first_line = 0;
  bool bad_sentence = false;
  auto flush = [&] {
    if (!tokens.empty() && !bad_sentence) {
      std::string context;
      for (const auto& t : tokens) context += (context.empty() ? "" : " ") + t;
      const auto chunks = metrics::chunks_of(tags);
      for (const auto& [type, question] : spec.questions) {
        std::string answer;
        for (const auto& c : chunks) {
          if (c.type != type) continue;
          std::string entity;
          for (size_t k = c.begin; k < c.end; ++k) entity += (entity.empty() ? "" : " ") + tokens[k];
          answer += (answer.empty() ? "" : spec.separator) + entity;
        }
        add(out, ctx, context, question, {answer.empty() ? "none" : answer},
            {{"sentence", sentence}, {"line", first_line}, {"type", type}, {"tokens", tokens}, {"tags", tags}});
      }
      ++sentence;
    }
    tokens.clear();
    tags.clear();
    bad_sentence = false;
  };
  for_each_line(file, [&](std::string_view line, long n) {
    if (!valid_utf8_line(ctx, file, n, line)) {
      bad_sentence = true;
      return;
    }
    const auto cols = columns(line);
    if (cols.empty()) return flush();
    if (cols[0] == "-DOCSTART-") return flush();  // CoNLL-2003's document lines
    if (bad_sentence) return;
    if (cols.size() < 2) {
      ctx.bad(file, n, "expected a token and its tag separated by whitespace, got \"" + std::string(line) + "\"");
      bad_sentence = true;
      return;
    }
    const long k = spec.tag_column < 0 ? static_cast<long>(cols.size()) + spec.tag_column : spec.tag_column;
    if (k < 1 || k >= static_cast<long>(cols.size())) {
      ctx.bad(file, n,
              "tag_column " + std::to_string(spec.tag_column) + " is not a tag column of this line's " +
                  std::to_string(cols.size()) + " columns");
      bad_sentence = true;
      return;
    }
    const std::string tag(cols[static_cast<size_t>(k)]);
    const std::string prefix = tag.substr(0, 2), type = tag.size() > 2 ? tag.substr(2) : "";
    const bool known =
        std::any_of(spec.questions.begin(), spec.questions.end(), [&](const auto& q) { return q.first == type; });
    if (tag != "O" && ((prefix != "B-" && prefix != "I-") || type.empty())) {
      ctx.bad(file, n, "tag \"" + tag + "\": expected O, B-<type> or I-<type>");
      bad_sentence = true;
      return;
    }
    if (tag != "O" && !known) {
      std::string types;
      for (const auto& q : spec.questions) types += (types.empty() ? "" : ", ") + q.first;
      ctx.bad(file, n, "entity type \"" + type + "\" has no question in task.json (its types: " + types + ")");
      bad_sentence = true;
      return;
    }
    if (tokens.empty()) first_line = n;
    tokens.emplace_back(cols[0]);
    tags.push_back(tag);
  });
  flush();
  if (first_line == 0)
    throw DataError::at(file.string(), 0,
                        "holds no sentence (expected CoNLL columns: a token and its tag per line, "
                        "blank lines between sentences)");
  return out;
}

}  // namespace deca::readers
