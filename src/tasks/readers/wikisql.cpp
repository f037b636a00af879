// WikiSQL: {train,dev,test}.jsonl questions with their tables' headers from
// {train,dev,test}.tables.jsonl; the answer is the query rendered as text.
#include <unordered_map>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/metrics/metrics.h"
#include "deca/text/unicode.h"
#include "readers.h"

namespace fs = std::filesystem;

namespace deca::readers {
namespace {
const char* kAggOps[] = {"", "MAX", "MIN", "COUNT", "SUM", "AVG"};
const char* kCondOps[] = {"=", ">", "<", "OP"};
const char* kKeywords =
    "MAX, MIN, COUNT, SUM, AVG, =, >, <, OP, SELECT, WHERE, AND, COL, TABLE, CAPTION, PAGE, SECTION, OP, COND, "
    "QUESTION, AGG, AGGOPS, CONDOPS";

// WikiSQL's Query.__repr__ with real column names; nullopt when an index is out of range.
std::optional<std::string> render_query(const nlohmann::json& sql, const std::vector<std::string>& header) {
  if (!sql.is_object() || !sql.contains("sel") || !sql.contains("agg") || !sql.contains("conds")) return std::nullopt;
  if (!sql["sel"].is_number_integer() || !sql["agg"].is_number_integer() || !sql["conds"].is_array())
    return std::nullopt;
  const long sel = sql["sel"], agg = sql["agg"];
  if (sel < 0 || sel >= static_cast<long>(header.size()) || agg < 0 || agg > 5) return std::nullopt;
  std::string rep = std::string("SELECT ") + kAggOps[agg] + " " + header[sel] + " FROM table";
  bool first = true;
  for (const auto& c : sql["conds"]) {
    if (!c.is_array() || c.size() != 3 || !c[0].is_number_integer() || !c[1].is_number_integer()) return std::nullopt;
    const long col = c[0], op = c[1];
    if (col < 0 || col >= static_cast<long>(header.size()) || op < 0 || op > 3) return std::nullopt;
    rep += first ? " WHERE " : " AND ";
    rep += header[col] + " " + kCondOps[op] + " " + metrics::python_str(c[2]);
    first = false;
  }
  return text::collapse_ws(rep);
}
}  // namespace

std::vector<Example> wikisql(const ReadContext& ctx) {
  const char* name = ctx.split() == Split::Train ? "train" : ctx.split() == Split::Validation ? "dev" : "test";
  const fs::path dir = ctx.data_root() / "wikisql" / "data";
  const fs::path file = dir / (std::string(name) + ".jsonl");
  const fs::path tables_file = dir / (std::string(name) + ".tables.jsonl");
  const std::string how =
      "download data.tar.bz2 from salesforce/WikiSQL and unpack it into " + (ctx.data_root() / "wikisql").string();
  require_file(file, how);
  require_file(tables_file, how);
  std::unordered_map<std::string, std::vector<std::string>> headers;
  for_each_line(tables_file, [&](std::string_view line, long n) {
    if (line.find_first_not_of(" \t") == std::string_view::npos) return;
    const auto t = parse_json_line(ctx, tables_file, n, line);
    if (t.is_discarded()) return;
    if (!t.is_object() || !t.contains("id") || !t["id"].is_string() || !t.contains("header") ||
        !t["header"].is_array()) {
      ctx.bad(tables_file, n, "expected a table with \"id\" (string) and \"header\" (array of strings)");
      return;
    }
    std::vector<std::string> header;
    for (const auto& h : t["header"]) header.push_back(h.is_string() ? h.get<std::string>() : h.dump());
    headers[t["id"].get<std::string>()] = std::move(header);
  });
  std::vector<Example> out;
  long index = -1;
  for_each_line(file, [&](std::string_view line, long n) {
    ++index;
    const auto q = parse_json_line(ctx, file, n, line);
    if (q.is_discarded()) return;
    const std::string* question = string_field(ctx, file, n, q, "question");
    const std::string* table_id = question ? string_field(ctx, file, n, q, "table_id") : nullptr;
    if (!table_id) return;
    auto h = headers.find(*table_id);
    if (h == headers.end()) {
      ctx.bad(file, n, "table \"" + *table_id + "\" is not in " + tables_file.string());
      return;
    }
    const auto answer = render_query(q.value("sql", nlohmann::json()), h->second);
    if (!answer) {
      ctx.bad(
          file, n,
          "expected \"sql\" {sel, agg, conds: [[column, operator, value], ...]} with indices inside the table header");
      return;
    }
    std::string columns;
    for (size_t i = 0; i < h->second.size(); ++i) columns += (i ? ", " : "") + h->second[i];
    add(out, ctx, "The table has columns " + columns + " and key words " + kKeywords + "-- " + *question,
        "What is the translation from English to SQL?", {*answer},
        {{"wikisql_id", index}, {"table_id", *table_id}, {"header", h->second}, {"sql", q["sql"]}});
  });
  return out;
}

}  // namespace deca::readers
