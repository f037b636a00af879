#include "deca/tasks/task.h"

#include "deca/core/log.h"

#include <algorithm>
#include <map>

#include "deca/core/error.h"
#include "deca/text/unicode.h"

namespace fs = std::filesystem;

namespace deca {

ReadContext::ReadContext(fs::path data_root, std::string task, Split split, ReadOptions options, ReadReport* report)
    : data_root_(std::move(data_root)), task_(std::move(task)), split_(split), options_(options), report_(report) {}

void ReadContext::bad(const fs::path& file, long line, const std::string& what) const {
  const DataError error = DataError::at(file.string(), line, what);
  if (!options_.skip_bad_records) throw error;
  if (report_) {
    ++report_->skipped;
    report_->problems.emplace_back(error.what());
  }
  log::warn("skipped a bad record: {}", error.what());
}

Task::Task(std::string name, std::string description, std::vector<Split> splits, Reader reader, Scoring scoring,
           std::string how_to_get)
    : name_(std::move(name)),
      description_(std::move(description)),
      splits_(std::move(splits)),
      reader_(std::move(reader)),
      scoring_(std::move(scoring)),
      how_to_get_(std::move(how_to_get)) {}

bool Task::has_split(Split s) const { return std::find(splits_.begin(), splits_.end(), s) != splits_.end(); }

std::vector<Example> Task::read(const fs::path& data_root, Split split, const ReadOptions& options,
                                ReadReport* report) const {
  if (!has_split(split)) {
    throw ConfigError("task " + name_ + " has no " + to_string(split) + " split" +
                      (split == Split::Test ? " (its test set is hidden; score the validation split)" : ""));
  }
  ReadReport local;
  ReadContext ctx(data_root, name_, split, options, report ? report : &local);
  return reader_(ctx);
}

std::vector<std::string> Task::scored_answers(const Example& ex) const {
  if (!scoring_.lowercase_golds) return ex.answers;
  std::vector<std::string> out;
  out.reserve(ex.answers.size());
  for (const auto& a : ex.answers) out.push_back(text::lower(a));
  return out;
}

namespace {

// Entity-level scores of a tagging task's answers: per sentence, the answers
// of the types asked placed back on its tokens, against its gold tags (of the
// types asked: a subset of the examples scores only what it asked).
metrics::ChunkScores entity_scores(const std::vector<std::string>& predictions, const std::vector<Example>& golds,
                                   const std::string& separator) {
  struct Sentence {
    std::vector<std::string> tokens, gold;
    std::vector<std::pair<std::string, std::string>> answers;  // type, predicted answer
  };
  std::map<long, Sentence> sentences;
  for (size_t i = 0; i < golds.size(); ++i) {
    const auto& m = golds[i].meta;
    auto& s = sentences[m.at("sentence").get<long>()];
    if (s.tokens.empty()) {
      s.tokens = m.at("tokens").get<std::vector<std::string>>();
      s.gold = m.at("tags").get<std::vector<std::string>>();
    }
    s.answers.emplace_back(m.at("type").get<std::string>(), predictions[i]);
  }
  std::vector<metrics::TaggedSentence> tagged;
  long unplaced = 0;
  for (auto& [id, s] : sentences) {
    const auto placed = metrics::place_entities(s.tokens, s.answers, separator);
    unplaced += placed.unplaced;
    metrics::TaggedSentence t;
    for (size_t k = 0; k < s.tokens.size(); ++k) {
      std::string gold = s.gold[k];
      const std::string type = gold.size() > 2 ? gold.substr(2) : "";
      const bool asked =
          std::any_of(s.answers.begin(), s.answers.end(), [&](const auto& a) { return a.first == type; });
      if (!asked) gold = "O";
      t.emplace_back(gold, placed.tags[k]);
    }
    tagged.push_back(std::move(t));
  }
  return metrics::entity_scores(tagged, unplaced);
}

}  // namespace

metrics::MetricValues Task::score(const std::vector<std::string>& predictions,
                                  const std::vector<Example>& golds) const {
  if (predictions.size() != golds.size())
    throw Error("task " + name_ + ": " + std::to_string(predictions.size()) + " predictions for " +
                std::to_string(golds.size()) + " examples");
  metrics::MetricValues v;
  metrics::Golds answers;
  answers.reserve(golds.size());
  for (const auto& g : golds) answers.push_back(scored_answers(g));
  if (predictions.empty()) return v;
  if (scoring_.logical_form) {
    std::vector<std::vector<std::string>> headers;
    std::vector<nlohmann::json> sqls;
    for (const auto& g : golds) {
      headers.push_back(g.meta.at("header").get<std::vector<std::string>>());
      sqls.push_back(g.meta.at("sql"));
    }
    v.set("lfem", metrics::lfem(predictions, headers, sqls));
  }
  if (scoring_.dialogue) {
    std::vector<std::string> ids, gold;
    for (const auto& g : golds) {
      ids.push_back(g.meta.at("lang_dialogue_turn").get<std::string>());
      gold.push_back(g.answer());
    }
    const auto d = metrics::dialogue(predictions, ids, gold);
    v.set("joint_goal_em", d.joint_goal_em);
    v.set("turn_request_em", d.turn_request_em);
    v.set("turn_goal_em", d.turn_goal_em);
    v.set("avg_dialogue", d.avg_dialogue);
  }
  v.set("em", metrics::exact_match(predictions, answers));
  if (scoring_.bleu) {
    std::vector<std::string> refs;
    for (const auto& a : answers) refs.push_back(a.front());
    v.set("bleu", metrics::corpus_bleu(predictions, refs).score);
  }
  if (scoring_.rouge) {
    const auto r = metrics::rouge(predictions, answers);
    v.set("rouge1", r.rouge1);
    v.set("rouge2", r.rouge2);
    v.set("rougeL", r.rougeL);
    v.set("avg_rouge", r.avg);
  }
  v.set("nf1", metrics::normalized_f1(predictions, answers));
  v.set("nem", metrics::normalized_exact_match(predictions, answers));
  if (scoring_.corpus_f1) {
    std::vector<std::string> np;
    for (const auto& p : predictions) np.push_back(metrics::normalize_answer(p));
    metrics::Golds ng;
    for (const auto& a : answers) {
      ng.emplace_back();
      for (const auto& x : a) ng.back().push_back(metrics::normalize_answer(x));
    }
    const auto c = metrics::corpus_f1(np, ng);
    v.set("corpus_f1", c.f1);
    v.set("precision", c.precision);
    v.set("recall", c.recall);
  }
  if (!scoring_.entity_separator.empty()) {
    const auto c = entity_scores(predictions, golds, scoring_.entity_separator);
    v.set("entity_f1", c.f1);
    v.set("entity_precision", c.precision);
    v.set("entity_recall", c.recall);
  }
  return v;
}

std::vector<std::string> Task::metric_names() const {
  std::vector<std::string> names;
  if (scoring_.logical_form) names.push_back("lfem");
  if (scoring_.dialogue)
    names.insert(names.end(), {"joint_goal_em", "turn_request_em", "turn_goal_em", "avg_dialogue"});
  names.push_back("em");
  if (scoring_.bleu) names.push_back("bleu");
  if (scoring_.rouge) names.insert(names.end(), {"rouge1", "rouge2", "rougeL", "avg_rouge"});
  names.insert(names.end(), {"nf1", "nem"});
  if (scoring_.corpus_f1) names.insert(names.end(), {"corpus_f1", "precision", "recall"});
  if (!scoring_.entity_separator.empty()) names.insert(names.end(), {"entity_f1", "entity_precision", "entity_recall"});
  return names;
}

double Task::decascore_entry(const metrics::MetricValues& values) const {
  auto v = values.get(scoring_.decascore_metric);
  if (!v) throw Error("task " + name_ + ": metric \"" + scoring_.decascore_metric + "\" is missing for the decaScore");
  return *v;
}

double decascore(const std::vector<std::pair<std::string, metrics::MetricValues>>& per_task,
                 std::vector<std::pair<std::string, double>>* entries) {
  double total = 0;
  for (const auto& [name, values] : per_task) {
    const double e = find_task(name)->decascore_entry(values);
    if (entries) entries->emplace_back(name, e);
    total += e;
  }
  return total;
}

}  // namespace deca
