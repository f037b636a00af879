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
    const bool start_correct = start_of_chunk(last_correct, correct),
               start_guessed = start_of_chunk(last_guessed, guessed);
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

std::vector<Chunk> chunks_of(const std::vector<std::string>& tags) {
  std::vector<Chunk> out;
  Tag prev{"O", ""};
  bool open = false;
  for (size_t i = 0; i <= tags.size(); ++i) {
    const Tag cur = i < tags.size() ? split_tag(tags[i]) : Tag{"O", ""};
    if (open && end_of_chunk(prev, cur)) {
      out.back().end = i;
      open = false;
    }
    if (i < tags.size() && start_of_chunk(prev, cur)) {
      if (open) out.back().end = i;
      out.push_back({cur.type, i, i});
      open = true;
    }
    prev = cur;
  }
  return out;
}

namespace {

// Lowercase ASCII without spaces: how an answer and a run of tokens are compared.
std::string squeezed(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != ' ' && c != '\t') out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
  return out;
}

std::string trimmed(const std::string& s) {
  const size_t b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// The entities of an answer: split at the separator (its spaces aside, as a
// detokenised answer may have lost them); "none" is no entity.
std::vector<std::string> split_answer(const std::string& answer, const std::string& separator) {
  std::vector<std::string> out;
  const std::string sep = trimmed(separator).empty() ? separator : trimmed(separator);
  size_t at = 0;
  while (at <= answer.size()) {
    size_t next = answer.find(sep, at);
    if (next == std::string::npos) next = answer.size();
    const std::string part = trimmed(answer.substr(at, next - at));
    if (!squeezed(part).empty() && squeezed(part) != "none") out.push_back(part);
    at = next + sep.size();
  }
  return out;
}

}  // namespace

PlacedTags place_entities(const std::vector<std::string>& tokens,
                          const std::vector<std::pair<std::string, std::string>>& answers_by_type,
                          const std::string& separator) {
  PlacedTags placed;
  placed.tags.assign(tokens.size(), "O");
  std::vector<std::string> squeezed_tokens;
  for (const auto& t : tokens) squeezed_tokens.push_back(squeezed(t));
  // The run [i, j) spelling `target` with every token untagged, if any.
  auto run_at = [&](size_t i, const std::string& target) -> size_t {
    std::string spelled;
    for (size_t j = i; j < tokens.size() && placed.tags[j] == "O"; ++j) {
      spelled += squeezed_tokens[j];
      if (spelled.size() > target.size() || target.compare(0, spelled.size(), spelled) != 0) return 0;
      if (spelled == target) return j + 1;
    }
    return 0;
  };
  for (const auto& [type, answer] : answers_by_type) {
    size_t after = 0;  // the end of this type's previous entity
    for (const auto& entity : split_answer(answer, separator)) {
      const std::string target = squeezed(entity);
      size_t begin = 0, end = 0;
      for (size_t pass = 0; pass < 2 && end == 0; ++pass)
        for (size_t i = pass == 0 ? after : 0; i < tokens.size() && end == 0; ++i)
          if ((end = run_at(i, target)) != 0) begin = i;
      if (end == 0) {
        ++placed.unplaced;
        continue;
      }
      for (size_t k = begin; k < end; ++k) placed.tags[k] = (k == begin ? "B-" : "I-") + type;
      after = end;
    }
  }
  return placed;
}

ChunkScores entity_scores(const std::vector<TaggedSentence>& sentences, long unplaced) {
  ChunkScores c = conlleval(sentences).overall;
  c.found += unplaced;
  finish(c);
  return c;
}

}  // namespace deca::metrics
