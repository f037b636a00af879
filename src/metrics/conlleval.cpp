// conlleval.pl's counting, rule for rule (its endOfChunk/startOfChunk and the
// main loop; the comments name its variables).
#include "deca/metrics/metrics.h"

namespace deca::metrics {
namespace {

struct Tag {
  std::string tag, type;  // "B", "LOC"; "O", ""
};

// conlleval splits at the first hyphen: /^([^-]*)-(.*)$/.
Tag split_tag(const std::string& t) {
  const size_t dash = t.find('-');
  if (dash == std::string::npos) return {t, ""};
  return {t.substr(0, dash), t.substr(dash + 1)};
}

bool end_of_chunk(const Tag& prev, const Tag& cur) {
  const std::string &p = prev.tag, &t = cur.tag;
  bool end = (p == "B" && t == "B") || (p == "B" && t == "O") || (p == "I" && t == "B") || (p == "I" && t == "O") ||
             (p == "E" && t == "E") || (p == "E" && t == "I") || (p == "E" && t == "O");
  if (p != "O" && p != "." && prev.type != cur.type) end = true;
  if (p == "]" || p == "[") end = true;
  return end;
}

bool start_of_chunk(const Tag& prev, const Tag& cur) {
  const std::string &p = prev.tag, &t = cur.tag;
  bool start = (p == "B" && t == "B") || (p == "I" && t == "B") || (p == "O" && t == "B") || (p == "O" && t == "I") ||
               (p == "E" && t == "E") || (p == "E" && t == "I") || (p == "O" && t == "E");
  if (t != "O" && t != "." && prev.type != cur.type) start = true;
  if (t == "[" || t == "]") start = true;
  return start;
}

void finish(ChunkScores& c) {
  c.precision = c.found > 0 ? 100.0 * static_cast<double>(c.correct) / static_cast<double>(c.found) : 0.0;
  c.recall = c.gold > 0 ? 100.0 * static_cast<double>(c.correct) / static_cast<double>(c.gold) : 0.0;
  c.f1 = c.precision + c.recall > 0 ? 2 * c.precision * c.recall / (c.precision + c.recall) : 0.0;
}

}  // namespace

ConllScores conlleval(const std::vector<TaggedSentence>& sentences) {
  ConllScores s;
  Tag last_correct{"O", ""}, last_guessed{"O", ""};
  bool in_correct = false;
  // One token of the input; a sentence boundary is conlleval's "-X- O O" line.
  auto step = [&](const Tag& correct, const Tag& guessed, bool boundary) {
    const bool end_correct = end_of_chunk(last_correct, correct), end_guessed = end_of_chunk(last_guessed, guessed);
    const bool start_correct = start_of_chunk(last_correct, correct), start_guessed = start_of_chunk(last_guessed, guessed);
    if (in_correct) {
      if (end_correct && end_guessed && last_guessed.type == last_correct.type) {
        in_correct = false;
        ++s.overall.correct;
        ++s.per_type[last_correct.type].correct;
      } else if (end_correct != end_guessed || guessed.type != correct.type) {
        in_correct = false;
      }
    }
    if (start_correct && start_guessed && guessed.type == correct.type) in_correct = true;
    if (start_correct) ++s.overall.gold, ++s.per_type[correct.type].gold;
    if (start_guessed) ++s.overall.found, ++s.per_type[guessed.type].found;
    if (!boundary) {
      if (correct.tag == guessed.tag && correct.type == guessed.type) ++s.correct_tags;
      ++s.tokens;
    }
    last_correct = correct;
    last_guessed = guessed;
  };
  for (const auto& sentence : sentences) {
    for (const auto& [gold, predicted] : sentence) step(split_tag(gold), split_tag(predicted), false);
    step({"O", ""}, {"O", ""}, true);
  }
  if (in_correct) ++s.overall.correct, ++s.per_type[last_correct.type].correct;
  finish(s.overall);
  for (auto& [type, c] : s.per_type) finish(c);
  s.accuracy = s.tokens > 0 ? 100.0 * static_cast<double>(s.correct_tags) / static_cast<double>(s.tokens) : 0.0;
  return s;
}

}  // namespace deca::metrics
