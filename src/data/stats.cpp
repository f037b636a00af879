#include "deca/data/stats.h"

#include <algorithm>

#include "deca/data/encoded.h"
#include "deca/text/revtok.h"
#include "deca/text/unicode.h"

namespace deca {
namespace {

template <class T>
bool contains_run(const std::vector<T>& haystack, const std::vector<T>& needle) {
  return !needle.empty() &&
         std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

}  // namespace

Distribution distribution(std::vector<size_t> v) {
  Distribution d;
  if (v.empty()) return d;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (size_t x : v) sum += static_cast<double>(x);
  d.mean = sum / static_cast<double>(v.size());
  d.p50 = v[v.size() / 2];
  d.p95 = v[std::min(v.size() - 1, v.size() * 95 / 100)];
  d.max = v.back();
  return d;
}

LengthStats length_stats(const std::vector<Example>& examples) {
  std::vector<size_t> c, q, a;
  for (const auto& ex : examples) {
    c.push_back(text::split_ws(ex.context).size());
    q.push_back(text::split_ws(ex.question).size());
    a.push_back(text::split_ws(ex.answer()).size());
  }
  return {distribution(c), distribution(q), distribution(a)};
}

CopyStats copy_stats(const std::vector<Example>& examples, const Tokenizer& tokenizer) {
  CopyStats s;
  for (const auto& ex : examples) {
    const auto answer = tokenizer.encode(ex.answer());
    if (answer.empty()) continue;
    ++s.answers;
    if (contains_run(tokenizer.encode(ex.context), answer) || contains_run(tokenizer.encode(ex.question), answer))
      ++s.copyable_units;
    const auto words = text::revtok_tokenize(text::lower(ex.answer()));
    if (contains_run(text::revtok_tokenize(text::lower(ex.context)), words) ||
        contains_run(text::revtok_tokenize(text::lower(ex.question)), words))
      ++s.copyable_words;
  }
  return s;
}

TrainingDrops training_drops(const std::string& task, const std::vector<Example>& examples, const Tokenizer& tokenizer,
                             const DataOptions& data) {
  TrainingDrops drops;
  const bool truncates = truncates_training_contexts(task);
  for (const auto& ex : examples) {
    // decaNLP's rules in its order: the first that applies counts.
    const auto a_words = text::revtok_count(text::lower(ex.answer()));
    const auto c_words = text::revtok_count(text::lower(ex.context));
    auto& d = drops.decanlp;
    if (static_cast<long>(a_words) > data.max_answer_tokens)
      ++d.long_answer;
    else if (!truncates && static_cast<long>(c_words) > data.max_context_tokens)
      ++d.long_context;
    else if (a_words == 0 || c_words == 0)
      ++d.empty;
    else if (text::lower(ex.answer()).find("this page includes the show") != std::string::npos)
      ++d.placeholder;
  }
  const auto e = encode(examples, tokenizer, EncodeOptions::from(data, true, truncates));
  drops.deca = {e.dropped_long_answer, e.dropped_long_context, e.dropped_empty, e.dropped_placeholder};
  return drops;
}

}  // namespace deca
