// EM, nEM, nF1 (official SQuAD v1.1 normalization) and QA-ZRE corpus F1.
#include <algorithm>
#include <set>
#include <unordered_map>

#include "deca/metrics/metrics.h"
#include "deca/text/unicode.h"
#include "lengths.h"

namespace deca::metrics {
namespace {

bool is_ascii_punct(char32_t c) {
  return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
}

// re.sub(r'\b(a|an|the)\b', ' ', s) with Python's Unicode \w.
std::u32string remove_articles(const std::u32string& s) {
  static const std::u32string kArticles[] = {U"a", U"an", U"the"};
  std::u32string out;
  out.reserve(s.size());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    bool boundary_before = i == 0 || !text::is_word(s[i - 1]);
    bool matched = false;
    if (boundary_before) {
      for (const auto& a : kArticles) {
        if (s.compare(i, a.size(), a) == 0) {
          size_t j = i + a.size();
          if (j == n || !text::is_word(s[j])) {
            out.push_back(U' ');
            i = j;
            matched = true;
            break;
          }
        }
      }
    }
    if (!matched) out.push_back(s[i++]);
  }
  return out;
}

template <typename Score>
double mean_of_max(const std::vector<std::string>& predictions, const Golds& golds, Score score) {
  require_same_length("SQuAD metrics", "gold lists", predictions.size(), golds.size());
  if (predictions.empty()) return 0.0;
  double sum = 0;  // summed left to right, as Python's sum()
  for (size_t i = 0; i < predictions.size(); ++i) {
    double best = 0;
    bool first = true;
    for (const auto& g : golds[i]) {
      double s = score(predictions[i], g);
      if (first || s > best) best = s;
      first = false;
    }
    sum += best;
  }
  return sum / static_cast<double>(predictions.size()) * 100.0;
}

std::vector<std::string> normalized(const std::vector<std::string>& xs) {
  std::vector<std::string> out;
  out.reserve(xs.size());
  for (const auto& x : xs) out.push_back(normalize_answer(x));
  return out;
}

Golds normalized(const Golds& golds) {
  Golds out;
  out.reserve(golds.size());
  for (const auto& g : golds) out.push_back(normalized(g));
  return out;
}

}  // namespace

std::string normalize_answer(std::string_view s) {
  std::u32string t = text::lower(text::decode_utf8(s));
  std::u32string no_punct;
  no_punct.reserve(t.size());
  for (char32_t c : t)
    if (!is_ascii_punct(c)) no_punct.push_back(c);
  return text::collapse_ws(text::encode_utf8(remove_articles(no_punct)));
}

double token_f1(std::string_view prediction, std::string_view gold) {
  const auto p = text::split_ws(prediction);
  const auto g = text::split_ws(gold);
  std::unordered_map<std::string, long> counts;
  for (const auto& t : g) ++counts[t];
  long same = 0;
  for (const auto& t : p) {
    auto it = counts.find(t);
    if (it != counts.end() && it->second > 0) {
      --it->second;
      ++same;
    }
  }
  if (same == 0) return 0.0;
  double precision = 1.0 * static_cast<double>(same) / static_cast<double>(p.size());
  double recall = 1.0 * static_cast<double>(same) / static_cast<double>(g.size());
  return (2 * precision * recall) / (precision + recall);
}

double exact_match(const std::vector<std::string>& predictions, const Golds& golds) {
  return mean_of_max(predictions, golds, [](const std::string& p, const std::string& g) { return p == g ? 1.0 : 0.0; });
}

double normalized_exact_match(const std::vector<std::string>& predictions, const Golds& golds) {
  return exact_match(normalized(predictions), normalized(golds));
}

double normalized_f1(const std::vector<std::string>& predictions, const Golds& golds) {
  return mean_of_max(normalized(predictions), normalized(golds),
                     [](const std::string& p, const std::string& g) { return token_f1(p, g); });
}

namespace {
// The zero-shot evaluator's simplify(): token set without punctuation and
// without the/a/an/and.
std::set<std::string> simplify(std::string_view answer) {
  std::set<std::string> out;
  for (const auto& tok : text::split_ws(text::lower(text::strip(answer)))) {
    std::string t;
    for (char c : tok)
      if (!is_ascii_punct(static_cast<unsigned char>(c))) t.push_back(c);
    if (t.empty() || t == "the" || t == "a" || t == "an" || t == "and") continue;
    out.insert(t);
  }
  return out;
}

bool is_unanswerable(const std::set<std::string>& s) { return s.size() == 1 && *s.begin() == "unanswerable"; }
}  // namespace

CorpusF1 corpus_f1(const std::vector<std::string>& predictions, const Golds& golds) {
  require_same_length("corpus_f1", "gold lists", predictions.size(), golds.size());
  double tp = 0, sys_pos = 0, real_pos = 0;
  for (size_t i = 0; i < predictions.size(); ++i) {
    std::set<std::string> gold;
    for (const auto& g : golds[i]) {
      auto s = simplify(g);
      gold.insert(s.begin(), s.end());
    }
    const auto answer = simplify(predictions[i]);
    if (answer == gold && !is_unanswerable(gold)) tp += 1;
    if (!is_unanswerable(answer)) sys_pos += 1;
    if (!is_unanswerable(gold)) real_pos += 1;
  }
  CorpusF1 r;
  if (tp == 0) return r;
  double p = tp / sys_pos, rc = tp / real_pos;
  r.precision = p * 100;
  r.recall = rc * 100;
  r.f1 = 2 * p * rc / (p + rc) * 100;
  return r;
}

}  // namespace deca::metrics
