// WikiSQL logical-form exact match: decaNLP's to_lf parser and computeLFEM.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "deca/metrics/metrics.h"
#include "deca/text/strings.h"
#include "deca/text/unicode.h"
#include "lengths.h"

namespace deca::metrics {
namespace {

const std::vector<std::string> kAggs = {"", "max", "min", "count", "sum", "avg"};
const std::vector<std::string> kConds = {"=", ">", "<", "op"};

std::string join(const std::vector<std::string>& xs, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end; ++i) {
    if (i > begin) out.push_back(' ');
    out += xs[i];
  }
  return out;
}

using text::replace_all;

// Python's int() of a str: optional whitespace and sign, ASCII digits,
// underscores between digits. nullopt where int() raises.
std::optional<long> python_int(const std::string& s) {
  std::string t = text::strip(s);
  size_t i = 0;
  bool neg = false;
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) neg = t[i++] == '-';
  if (i >= t.size()) return std::nullopt;
  long v = 0;
  bool prev_digit = false;
  for (; i < t.size(); ++i) {
    if (t[i] >= '0' && t[i] <= '9') {
      // Python's int has no bound; past 10^15 the value names no column or
      // operator any more, so it stops growing instead of overflowing.
      if (v < 1000000000000000L) v = v * 10 + (t[i] - '0');
      prev_digit = true;
    } else if (t[i] == '_' && prev_digit && i + 1 < t.size()) {
      prev_digit = false;
    } else {
      return std::nullopt;
    }
  }
  if (!prev_digit) return std::nullopt;
  return neg ? -v : v;
}

// The pieces of re.split('(Col\d+ Cond\d+)', s): text, match, text, match, ...
std::vector<std::string> split_col_cond(const std::string& s) {
  std::vector<std::string> out;
  size_t last = 0, i = 0;
  auto digits = [&](size_t p) {
    size_t q = p;
    while (q < s.size() && s[q] >= '0' && s[q] <= '9') ++q;
    return q;
  };
  while (i < s.size()) {
    if (s.compare(i, 3, "Col") == 0) {
      size_t d = digits(i + 3);
      if (d > i + 3 && d < s.size() && s[d] == ' ' && s.compare(d + 1, 4, "Cond") == 0) {
        size_t e = digits(d + 5);
        if (e > d + 5) {
          out.push_back(s.substr(last, i - last));
          out.push_back(s.substr(i, e - i));
          last = i = e;
          continue;
        }
      }
    }
    ++i;
  }
  out.push_back(s.substr(last));
  return out;
}

}  // namespace

std::optional<LogicalForm> parse_logical_form(std::string_view prediction, const std::vector<std::string>& header) {
  std::vector<std::pair<std::string, int>> unsorted, headers;
  for (size_t i = 0; i < header.size(); ++i) unsorted.emplace_back(text::lower(header[i]), static_cast<int>(i));
  headers = unsorted;
  std::stable_sort(headers.begin(), headers.end(), [](const auto& a, const auto& b) {
    return text::decode_utf8(a.first).size() > text::decode_utf8(b.first).size();
  });

  std::string s(prediction);
  std::optional<std::string> condition_s;
  if (size_t w = s.find("where"); w != std::string::npos) {
    condition_s = s.substr(w + 5);
    s = s.substr(0, w);
  }
  auto words = text::split_ws(s);
  s = words.size() > 3 ? join(words, 1, words.size() - 2) : std::string();
  LogicalForm lf;
  for (const auto& [col, idx] : headers)
    if (col == s) lf.sel = idx;
  if (!lf.sel) {
    auto toks = text::split_ws(s);
    if (toks.empty()) return std::nullopt;  // IndexError
    auto agg = std::find(kAggs.begin(), kAggs.end(), toks[0]);
    if (agg == kAggs.end()) return std::nullopt;  // KeyError
    lf.agg = static_cast<int>(agg - kAggs.begin());
    s = join(toks, 1, toks.size());
    for (const auto& [col, idx] : headers)
      if (col == s) lf.sel = idx;
  }
  if (!condition_s) return lf;

  std::string c = " " + *condition_s + " ";
  for (const auto& [col, idx] : headers) c = replace_all(c, " " + col + " ", " Col" + std::to_string(idx) + " ");
  c = text::strip(c);
  for (size_t k = 0; k < kConds.size(); ++k) {
    auto toks = text::split_ws(c);
    for (auto& t : toks)
      if (t == kConds[k]) t = "Cond" + std::to_string(k);
    c = join(toks, 0, toks.size());
  }
  std::vector<std::string> parts;
  for (auto& p : split_col_cond(c))
    if (!text::strip(p).empty()) parts.push_back(p);
  for (size_t i = 0; i < parts.size(); ++i) {
    auto x = text::split_ws(parts[i]);
    if (i % 2 == 0) {
      if (x.size() < 2) return std::nullopt;
      auto col = python_int(replace_all(x[0], "Col", ""));
      auto op = python_int(replace_all(x[1], "Cond", ""));
      if (!col || !op) return std::nullopt;
      lf.conds.push_back({*col, *op, std::nullopt});
    } else {
      if (!x.empty() && x.back() == "and") x.pop_back();
      std::string value = join(x, 0, x.size());
      if (value.find("Col") != std::string::npos) {
        auto toks = text::split_ws(value);
        for (auto& t : toks) {
          if (t.find("Col") == std::string::npos) continue;
          auto idx = python_int(replace_all(t, "Col", ""));
          if (!idx) return std::nullopt;
          long n = static_cast<long>(unsorted.size());
          long j = *idx < 0 ? *idx + n : *idx;
          if (j < 0 || j >= n) return std::nullopt;
          t = unsorted[static_cast<size_t>(j)].first;
        }
        value = join(toks, 0, toks.size());
      }
      if (value.find("Cond") != std::string::npos) {
        auto toks = text::split_ws(value);
        for (auto& t : toks) {
          if (t.find("Cond") == std::string::npos) continue;
          auto idx = python_int(replace_all(t, "Cond", ""));
          if (!idx) return std::nullopt;
          long n = static_cast<long>(kConds.size());
          long j = *idx < 0 ? *idx + n : *idx;
          if (j < 0 || j >= n) return std::nullopt;
          t = kConds[static_cast<size_t>(j)];
        }
        value = join(toks, 0, toks.size());
      }
      if (lf.conds.empty()) return std::nullopt;
      lf.conds.back().value = value;
    }
  }
  return lf;
}

std::string python_str(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
  if (v.is_null()) return "None";
  if (v.is_number_integer()) return v.dump();
  if (v.is_number_float()) {
    // repr(float): shortest round-trip digits; exponent form when the decimal
    // exponent is < -4 or >= 16.
    double d = v.get<double>();
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string sci(buf, res.ptr);
    size_t e = sci.find('e');
    std::string mant = sci.substr(0, e);
    int exp10 = std::stoi(sci.substr(e + 1));
    bool neg = mant[0] == '-';
    if (neg) mant = mant.substr(1);
    std::string digits;
    for (char ch : mant)
      if (ch != '.') digits.push_back(ch);
    std::string out = neg ? "-" : "";
    if (exp10 < -4 || exp10 >= 16) {
      out += digits.substr(0, 1);
      if (digits.size() > 1) out += "." + digits.substr(1);
      char eb[16];
      std::snprintf(eb, sizeof eb, "e%c%02d", exp10 < 0 ? '-' : '+', std::abs(exp10));
      return out + eb;
    }
    if (exp10 < 0) return out + "0." + std::string(static_cast<size_t>(-exp10 - 1), '0') + digits;
    size_t int_len = static_cast<size_t>(exp10) + 1;
    if (digits.size() <= int_len) return out + digits + std::string(int_len - digits.size(), '0') + ".0";
    return out + digits.substr(0, int_len) + "." + digits.substr(int_len);
  }
  return v.dump();
}

nlohmann::ordered_json logical_form_record(std::string_view prediction, const std::vector<std::string>& header) {
  const auto lf = parse_logical_form(prediction, header);
  bool valid = lf && lf->sel.has_value() && !std::string(prediction).empty();
  if (valid)
    for (const auto& c : lf->conds) valid = valid && c.value.has_value();
  nlohmann::ordered_json j;
  if (!valid) {
    j["query"] = nullptr;
    j["error"] = "Invalid";
    return j;
  }
  nlohmann::ordered_json conds = nlohmann::ordered_json::array();
  for (const auto& c : lf->conds) conds.push_back({c.column, c.op, *c.value});
  j["query"] = {{"sel", *lf->sel}, {"conds", conds}, {"agg", lf->agg}};
  j["error"] = "";
  return j;
}

LogicalForm gold_logical_form(const nlohmann::json& sql) {
  LogicalForm lf;
  lf.sel = sql.at("sel").get<int>();
  lf.agg = sql.at("agg").get<int>();
  for (const auto& c : sql.at("conds")) {
    lf.conds.push_back({c.at(0).get<long>(), c.at(1).get<long>(), text::lower(python_str(c.at(2)))});
  }
  return lf;
}

double lfem(const std::vector<std::string>& predictions, const std::vector<std::vector<std::string>>& headers,
            const std::vector<nlohmann::json>& sqls) {
  require_same_length("lfem", "headers", predictions.size(), headers.size());
  require_same_length("lfem", "queries", predictions.size(), sqls.size());
  if (predictions.empty()) return 0.0;
  long correct = 0;
  for (size_t i = 0; i < predictions.size(); ++i) {
    auto lf = parse_logical_form(predictions[i], headers[i]);
    if (lf && *lf == gold_logical_form(sqls[i])) ++correct;
  }
  return static_cast<double>(correct) / static_cast<double>(predictions.size()) * 100;
}

}  // namespace deca::metrics
