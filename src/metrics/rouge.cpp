// ROUGE-1, ROUGE-2 and ROUGE-L F-scores as decaNLP obtains them: its sentence
// split on ".", pyrouge's SEE files and ROUGE-1.5.5 with -a -c 95 -m -n 2
// -w 1.3 (Porter stemming, empty WordNet exception database, model average).
// One pass per example, linear in the number of examples.
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

#include "deca/metrics/metrics.h"
#include "deca/text/unicode.h"
#include "lengths.h"

namespace deca::metrics {
namespace {

// ---- Porter stemmer of ROUGE-1.5.5 (its Perl regexes, spelled out) --------

bool in(char c, const char* set) {
  for (; *set; ++set)
    if (*set == c) return true;
  return false;
}
bool cons(char c) { return !in(c, "aeiou"); }          // [^aeiou]
bool not_vowel_y(char c) { return !in(c, "aeiouy"); }  // [^aeiouy]
bool vowel_y(char c) { return in(c, "aeiouy"); }       // [aeiouy]
bool vowel(char c) { return in(c, "aeiou"); }          // [aeiou]

using Positions = std::vector<bool>;  // reachable positions 0..n

// $C = [^aeiou][^aeiouy]* and $V = [aeiouy][aeiou]*, from every start in `from`.
Positions step(const std::string& w, const Positions& from, bool consonant_seq) {
  const size_t n = w.size();
  Positions to(n + 1, false);
  for (size_t i = 0; i < n; ++i) {
    if (!from[i]) continue;
    if (consonant_seq ? !cons(w[i]) : !vowel_y(w[i])) continue;
    size_t j = i + 1;
    to[j] = true;
    while (j < n && (consonant_seq ? not_vowel_y(w[j]) : vowel(w[j]))) to[++j] = true;
  }
  return to;
}
Positions start_with_optional_C(const std::string& w) {
  Positions p(w.size() + 1, false);
  p[0] = true;
  Positions c = step(w, p, true);
  for (size_t i = 0; i <= w.size(); ++i) p[i] = p[i] || c[i];
  return p;
}
bool any(const Positions& p) {
  for (bool b : p)
    if (b) return true;
  return false;
}
// ^(C)?VC
bool m_gt0(const std::string& w) { return any(step(w, step(w, start_with_optional_C(w), false), true)); }
// ^(C)?VCVC
bool m_gt1(const std::string& w) {
  Positions p = step(w, step(w, start_with_optional_C(w), false), true);
  return any(step(w, step(w, p, false), true));
}
// ^(C)?VC(V)?$
bool m_eq1(const std::string& w) {
  Positions p = step(w, step(w, start_with_optional_C(w), false), true);
  Positions v = step(w, p, false);
  return p[w.size()] || v[w.size()];
}
// ^(C)?[aeiouy]
bool has_vowel(const std::string& w) {
  Positions p = start_with_optional_C(w);
  for (size_t i = 0; i < w.size(); ++i)
    if (p[i] && vowel_y(w[i])) return true;
  return false;
}
// ^C[aeiouy][^aeiouwxy]$
bool cvc(const std::string& w) {
  const size_t n = w.size();
  if (n < 3) return false;
  Positions start(n + 1, false);
  start[0] = true;
  const Positions p = step(w, start, true);
  return p[n - 2] && vowel_y(w[n - 2]) && !in(w[n - 1], "aeiouwxy");
}
bool ends(const std::string& w, const char* suffix) {
  size_t k = std::char_traits<char>::length(suffix);
  return w.size() >= k && w.compare(w.size() - k, k, suffix) == 0;
}

struct Rule {
  const char* suffix;
  const char* replacement;
};
// The longest listed suffix that `w` ends with (the leftmost regex match).
const Rule* longest(const std::string& w, const Rule* rules, size_t count) {
  const Rule* best = nullptr;
  size_t best_len = 0;
  for (size_t i = 0; i < count; ++i) {
    size_t len = std::char_traits<char>::length(rules[i].suffix);
    if (len > best_len && ends(w, rules[i].suffix)) {
      best = &rules[i];
      best_len = len;
    }
  }
  return best;
}

constexpr Rule kStep2[] = {{"ational", "ate"}, {"tional", "tion"}, {"enci", "ence"},   {"anci", "ance"},
                           {"izer", "ize"},    {"bli", "ble"},     {"alli", "al"},     {"entli", "ent"},
                           {"eli", "e"},       {"ousli", "ous"},   {"ization", "ize"}, {"ation", "ate"},
                           {"ator", "ate"},    {"alism", "al"},    {"iveness", "ive"}, {"fulness", "ful"},
                           {"ousness", "ous"}, {"aliti", "al"},    {"iviti", "ive"},   {"biliti", "ble"},
                           {"logi", "log"}};
constexpr Rule kStep3[] = {{"icate", "ic"}, {"ative", ""}, {"alize", "al"}, {"iciti", "ic"},
                           {"ical", "ic"},  {"ful", ""},   {"ness", ""}};
constexpr Rule kStep4[] = {{"al", ""},   {"ance", ""}, {"ence", ""},  {"er", ""}, {"ic", ""},  {"able", ""},
                           {"ible", ""}, {"ant", ""},  {"ement", ""}, {"ou", ""}, {"ism", ""}, {"ate", ""},
                           {"iti", ""},  {"ous", ""},  {"ive", ""},   {"ize", ""}};

}  // namespace

std::string porter_stem(std::string_view word) {
  std::string w(word);
  if (w.size() < 3) return w;
  const bool initial_y = w[0] == 'y';
  if (initial_y) w[0] = 'Y';
  auto cut = [&](size_t k) { return w.substr(0, w.size() - k); };

  // Step 1a
  if (ends(w, "sses") || ends(w, "ies")) {
    w = cut(2);
  } else if (w.size() >= 2 && w.back() == 's' && w[w.size() - 2] != 's') {
    w = cut(1);
  }
  // Step 1b
  if (ends(w, "eed")) {
    if (m_gt0(cut(3))) w = cut(1);
  } else if (ends(w, "ed") || ends(w, "ing")) {
    std::string stem = cut(ends(w, "ed") ? 2 : 3);
    if (has_vowel(stem)) {
      w = stem;
      const size_t n = w.size();
      if (ends(w, "at") || ends(w, "bl") || ends(w, "iz")) {
        w += "e";
      } else if (n >= 2 && w[n - 1] == w[n - 2] && !in(w[n - 1], "aeiouylsz")) {
        w = cut(1);
      } else if (cvc(w)) {
        w += "e";
      }
    }
  }
  // Step 1c
  if (ends(w, "y")) {
    std::string stem = cut(1);
    if (has_vowel(stem)) w = stem + "i";
  }
  // Steps 2 and 3
  for (auto [rules, count] : {std::pair{kStep2, std::size(kStep2)}, std::pair{kStep3, std::size(kStep3)}}) {
    if (const Rule* r = longest(w, rules, count)) {
      std::string stem = cut(std::char_traits<char>::length(r->suffix));
      if (m_gt0(stem)) w = stem + r->replacement;
    }
  }
  // Step 4 (ROUGE's variant: -ement is tried before -ment and -ent)
  if (const Rule* r = longest(w, kStep4, std::size(kStep4))) {
    std::string stem = cut(std::char_traits<char>::length(r->suffix));
    if (m_gt1(stem)) w = stem;
  }
  if (ends(w, "ment")) {
    std::string stem = cut(4);
    if (m_gt1(stem)) w = stem;
  }
  if (ends(w, "ent")) {
    std::string stem = cut(3);
    if (m_gt1(stem)) w = stem;
  } else if (ends(w, "sion") || ends(w, "tion")) {
    std::string stem = cut(3);
    if (m_gt1(stem)) w = stem;
  }
  // Step 5
  if (ends(w, "e")) {
    std::string stem = cut(1);
    if (m_gt1(stem) || (m_eq1(stem) && !cvc(stem))) w = stem;
  }
  if (ends(w, "ll") && m_gt1(w)) w = cut(1);
  if (initial_y) w[0] = 'y';
  return w;
}

namespace {

// ---- From a text to ROUGE's tokens --------------------------------------------

// What ROUGE-1.5.5 reads of one summary: per "sentence", the stemmed tokens.
using Sentences = std::vector<std::vector<std::string>>;

class Tokenizer {
 public:
  Sentences sentences(const std::string& txt) {
    Sentences out;
    // decaNLP: [s.split() for s in txt.strip().split('.') if len(s) > 0], then
    // sentences without tokens dropped.
    const std::string stripped = text::strip(txt);
    size_t pos = 0;
    while (pos <= stripped.size()) {
      size_t dot = stripped.find('.', pos);
      if (dot == std::string::npos) dot = stripped.size();
      std::string_view piece(stripped.data() + pos, dot - pos);
      pos = dot + 1;
      const auto words = text::split_ws(piece);
      if (words.empty()) continue;
      // pyrouge writes " ".join(words) into an HTML line; ROUGE's regex keeps the
      // text before the first '<' and skips the line when that is empty.
      std::string line;
      for (size_t i = 0; i < words.size(); ++i) {
        if (i) line.push_back(' ');
        line += words[i];
      }
      line = line.substr(0, line.find('<'));
      if (line.empty()) continue;
      out.push_back(tokens(line));
    }
    return out;
  }

 private:
  // ROUGE's clean-up of one sentence: lowercase ASCII, "-" split off, every byte
  // outside [A-Za-z0-9-] a space; then tokens starting with [a-z0-9] are kept and
  // those longer than 3 characters stemmed.
  std::vector<std::string> tokens(const std::string& line) {
    std::string clean;
    clean.reserve(line.size() + 8);
    for (char ch : line) {
      unsigned char c = static_cast<unsigned char>(ch);
      if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c + 32);
      if (c == '-') {
        clean += " - ";
      } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        clean.push_back(static_cast<char>(c));
      } else {
        clean.push_back(' ');
      }
    }
    std::vector<std::string> out;
    size_t i = 0;
    while (i < clean.size()) {
      while (i < clean.size() && clean[i] == ' ') ++i;
      size_t j = i;
      while (j < clean.size() && clean[j] != ' ') ++j;
      if (j > i && clean[i] != '-') {
        std::string tok = clean.substr(i, j - i);
        out.push_back(tok.size() > 3 ? stem(tok) : tok);
      }
      i = j;
    }
    return out;
  }

  const std::string& stem(const std::string& tok) {
    auto it = cache_.find(tok);
    if (it == cache_.end()) it = cache_.emplace(tok, porter_stem(tok)).first;
    return it->second;
  }

  std::unordered_map<std::string, std::string> cache_;
};

using Counts = std::unordered_map<std::string, long>;

Counts ngrams(const Sentences& s, int n, long* total) {
  std::vector<const std::string*> flat;
  for (const auto& sent : s)
    for (const auto& t : sent) flat.push_back(&t);
  Counts c;
  *total = 0;
  for (size_t i = 0; i + n <= flat.size(); ++i) {
    std::string g = *flat[i];
    for (int k = 1; k < n; ++k) {
      g.push_back(' ');
      g += *flat[i + k];
    }
    ++c[g];
    ++*total;
  }
  return c;
}

// sprintf("%7.5f", x) read back as a number, as Perl does with ROUGE's scores.
double round5(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%7.5f", x);
  return std::strtod(buf, nullptr);
}

double f_score(long hit, long model_count, long peer_count) {
  double r = model_count != 0 ? round5(static_cast<double>(hit) / static_cast<double>(model_count)) : 0.0;
  double p = peer_count != 0 ? round5(static_cast<double>(hit) / static_cast<double>(peer_count)) : 0.0;
  const double alpha = 0.5;
  if ((1 - alpha) * p + alpha * r > 0) return round5((p * r) / ((1 - alpha) * p + alpha * r));
  return 0.0;
}

double rouge_n(const Sentences& peer, const std::vector<Sentences>& models, int n) {
  long peer_total;
  const Counts peer_grams = ngrams(peer, n, &peer_total);
  long hit = 0, model_count = 0, peer_count = 0;
  for (const auto& m : models) {
    long model_total;
    const Counts model_grams = ngrams(m, n, &model_total);
    for (const auto& [g, c] : model_grams) {
      auto it = peer_grams.find(g);
      if (it != peer_grams.end()) hit += std::min(c, it->second);
    }
    model_count += model_total;
    peer_count += peer_total;
  }
  return f_score(hit, model_count, peer_count);
}

// Marks the model positions of one LCS of `model` and `peer`, with ROUGE's
// tie-breaking (diagonal, then up when c[i-1][j] >= c[i][j-1], else left).
void mark_lcs(const std::vector<std::string>& model, const std::vector<std::string>& peer, std::vector<char>& hits,
              std::vector<int>& c, std::vector<char>& b) {
  const size_t m = model.size(), n = peer.size();
  if (m == 0) return;
  c.assign((m + 1) * (n + 1), 0);
  b.assign((m + 1) * (n + 1), 0);
  auto at = [n](size_t i, size_t j) { return i * (n + 1) + j; };
  for (size_t i = 1; i <= m; ++i) {
    for (size_t j = 1; j <= n; ++j) {
      if (model[i - 1] == peer[j - 1]) {
        c[at(i, j)] = c[at(i - 1, j - 1)] + 1;
        b[at(i, j)] = 'd';
      } else if (c[at(i - 1, j)] >= c[at(i, j - 1)]) {
        c[at(i, j)] = c[at(i - 1, j)];
        b[at(i, j)] = 'u';
      } else {
        c[at(i, j)] = c[at(i, j - 1)];
        b[at(i, j)] = 'l';
      }
    }
  }
  size_t i = m, j = n;
  while (i != 0 && j != 0) {
    char move = b[at(i, j)];
    if (move == 'd') {
      --i;
      --j;
      hits[i] = 1;
    } else if (move == 'u') {
      --i;
    } else {
      --j;
    }
  }
}

// Summary-level ROUGE-L: union LCS of each model sentence over all peer
// sentences, each unigram counted at most as often as it occurs on both sides.
double rouge_l(const Sentences& peer, const std::vector<Sentences>& models) {
  long peer_total;
  const Counts peer_unigrams = ngrams(peer, 1, &peer_total);
  long hit = 0, base = 0, peer_count = 0;
  std::vector<int> c;
  std::vector<char> b;
  for (const auto& model : models) {
    Counts peer_left = peer_unigrams;
    long ignored;
    Counts model_left = ngrams(model, 1, &ignored);
    for (const auto& sent : model) {
      std::vector<char> hits(sent.size(), 0);
      base += static_cast<long>(sent.size());
      for (const auto& p : peer) mark_lcs(sent, p, hits, c, b);
      for (size_t j = 0; j < sent.size(); ++j) {
        if (!hits[j]) continue;
        auto mi = model_left.find(sent[j]);
        auto pi = peer_left.find(sent[j]);
        if (mi != model_left.end() && pi != peer_left.end() && mi->second > 0 && pi->second > 0) {
          ++hit;
          --mi->second;
          --pi->second;
        }
      }
    }
    peer_count += peer_total;
  }
  return f_score(hit, base, peer_count);
}

bool has_tokens(const Sentences& s) {
  for (const auto& sent : s)
    if (!sent.empty()) return true;
  return false;
}

}  // namespace

RougeScores rouge(const std::vector<std::string>& predictions, const Golds& golds) {
  require_same_length("rouge", "gold lists", predictions.size(), golds.size());
  RougeScores out;
  if (predictions.empty()) return out;
  Tokenizer tok;
  double s1 = 0, s2 = 0, sl = 0;
  for (size_t i = 0; i < predictions.size(); ++i) {
    const Sentences peer = tok.sentences(predictions[i]);
    std::vector<Sentences> models;
    bool empty_model = false;
    for (const auto& g : golds[i]) {
      models.push_back(tok.sentences(g));
      empty_model = empty_model || !has_tokens(models.back());
    }
    // ROUGE-1.5.5 dies on "Illegal division by zero" in ROUGE-W when a model has
    // no token; decaNLP then reads no score and counts 0 for the example.
    if (empty_model) continue;
    s1 += rouge_n(peer, models, 1);
    s2 += rouge_n(peer, models, 2);
    sl += rouge_l(peer, models);
  }
  const double n = static_cast<double>(predictions.size());
  out.rouge1 = s1 / n * 100;
  out.rouge2 = s2 / n * 100;
  out.rougeL = sl / n * 100;
  out.avg = (out.rouge1 + out.rouge2 + out.rougeL) / 3;
  return out;
}

}  // namespace deca::metrics
