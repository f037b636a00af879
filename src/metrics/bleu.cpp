// Corpus BLEU exactly as sacreBLEU 1.2 computes it with lowercase=True, the
// 13a tokenizer and exponential smoothing.
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "deca/metrics/metrics.h"
#include "deca/text/unicode.h"
#include "lengths.h"

namespace deca::metrics {
namespace {

constexpr int kOrder = 4;

void replace_all(std::u32string& s, const std::u32string& from, const std::u32string& to) {
  std::u32string out;
  size_t pos = 0;
  while (true) {
    size_t hit = s.find(from, pos);
    if (hit == std::u32string::npos) break;
    out.append(s, pos, hit - pos);
    out += to;
    pos = hit + from.size();
  }
  out.append(s, pos, std::u32string::npos);
  s.swap(out);
}

bool is_digit(char32_t c) { return c >= U'0' && c <= U'9'; }

// [\{-\~\[-\` -\&\(-\+\:-\@\/]
bool is_13a_symbol(char32_t c) {
  return (c >= 0x7B && c <= 0x7E) || (c >= 0x5B && c <= 0x60) || (c >= 0x20 && c <= 0x26) || (c >= 0x28 && c <= 0x2B) ||
         (c >= 0x3A && c <= 0x40) || c == 0x2F;
}

// Maps each n-gram (as a run of token ids) to its count.
using NgramCounts = std::unordered_map<std::string, long>;

NgramCounts count_ngrams(const std::vector<int>& ids) {
  NgramCounts counts;
  for (int n = 1; n <= kOrder; ++n) {
    for (size_t i = 0; i + n <= ids.size(); ++i) {
      std::string key(reinterpret_cast<const char*>(&ids[i]), n * sizeof(int));
      ++counts[key];
    }
  }
  return counts;
}

double my_log(double x) { return x == 0.0 ? -9999999999.0 : std::log(x); }

}  // namespace

std::string tokenize_13a(std::string_view line) {
  std::u32string s = text::decode_utf8(line);
  replace_all(s, U"<skipped>", U"");
  replace_all(s, U"-\n", U"");
  replace_all(s, U"\n", U" ");
  replace_all(s, U"&quot;", U"\"");
  replace_all(s, U"&amp;", U"&");
  replace_all(s, U"&lt;", U"<");
  replace_all(s, U"&gt;", U">");
  s = U" " + s + U" ";

  std::u32string a;
  for (char32_t c : s) {
    if (is_13a_symbol(c)) {
      a.push_back(U' ');
      a.push_back(c);
      a.push_back(U' ');
    } else {
      a.push_back(c);
    }
  }
  // The three two-character rules, each one left-to-right pass with
  // non-overlapping matches as re.sub does.
  auto pass = [](const std::u32string& in, auto matches, auto emit) {
    std::u32string out;
    size_t i = 0;
    while (i < in.size()) {
      if (i + 1 < in.size() && matches(in[i], in[i + 1])) {
        emit(out, in[i], in[i + 1]);
        i += 2;
      } else {
        out.push_back(in[i++]);
      }
    }
    return out;
  };
  auto period_or_comma = [](char32_t c) { return c == U'.' || c == U','; };
  a = pass(
      a, [&](char32_t x, char32_t y) { return !is_digit(x) && period_or_comma(y); },
      [](std::u32string& o, char32_t x, char32_t y) {
        o += x;
        o += U' ';
        o += y;
        o += U' ';
      });
  a = pass(
      a, [&](char32_t x, char32_t y) { return period_or_comma(x) && !is_digit(y); },
      [](std::u32string& o, char32_t x, char32_t y) {
        o += U' ';
        o += x;
        o += U' ';
        o += y;
      });
  a = pass(
      a, [](char32_t x, char32_t y) { return is_digit(x) && y == U'-'; },
      [](std::u32string& o, char32_t x, char32_t y) {
        o += x;
        o += U' ';
        o += y;
        o += U' ';
      });
  return text::collapse_ws(text::encode_utf8(a));
}

BleuResult corpus_bleu(const std::vector<std::string>& predictions, const std::vector<std::string>& references) {
  require_same_length("corpus_bleu", "references", predictions.size(), references.size());
  BleuResult r;
  r.correct.assign(kOrder, 0);
  r.total.assign(kOrder, 0);
  r.precisions.assign(kOrder, 0.0);
  std::unordered_map<std::string, int> vocab;
  auto ids_of = [&](const std::string& tokenized) {
    std::vector<int> ids;
    for (const auto& t : text::split_ws(tokenized)) {
      auto it = vocab.emplace(t, static_cast<int>(vocab.size())).first;
      ids.push_back(it->second);
    }
    return ids;
  };
  for (size_t i = 0; i < predictions.size(); ++i) {
    const auto hyp = ids_of(tokenize_13a(text::rstrip(text::lower(predictions[i]))));
    const auto ref = ids_of(tokenize_13a(text::rstrip(text::lower(references[i]))));
    r.sys_len += static_cast<long>(hyp.size());
    r.ref_len += static_cast<long>(ref.size());
    const auto ref_counts = count_ngrams(ref);
    for (const auto& [gram, count] : count_ngrams(hyp)) {
      const size_t n = gram.size() / sizeof(int);
      auto it = ref_counts.find(gram);
      long matched = it == ref_counts.end() ? 0 : std::min(count, it->second);
      r.correct[n - 1] += matched;
      r.total[n - 1] += count;
    }
  }
  double smooth = 1.0;
  for (int n = 0; n < kOrder; ++n) {
    if (r.total[n] == 0) break;
    if (r.correct[n] == 0) {
      smooth *= 2;
      r.precisions[n] = 100.0 / (smooth * static_cast<double>(r.total[n]));
    } else {
      r.precisions[n] = 100.0 * static_cast<double>(r.correct[n]) / static_cast<double>(r.total[n]);
    }
  }
  r.brevity_penalty = 1.0;
  if (r.sys_len < r.ref_len) {
    r.brevity_penalty =
        r.sys_len > 0 ? std::exp(1.0 - static_cast<double>(r.ref_len) / static_cast<double>(r.sys_len)) : 0.0;
  }
  double log_sum = 0;
  for (double p : r.precisions) log_sum += my_log(p);
  r.score = r.brevity_penalty * std::exp(log_sum / kOrder);
  return r;
}

}  // namespace deca::metrics
