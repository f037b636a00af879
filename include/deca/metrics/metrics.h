// The decathlon metrics, computed exactly as the reference implementations do
// (decaNLP's metrics.py, sacreBLEU 1.2 with lowercase=True, ROUGE-1.5.5 with
// -a -c 95 -m -n 2 -w 1.3, the official SQuAD v1.1 normalization). Every
// score is on a 0-100 scale. No LibTorch here. Functions that take parallel
// lists (predictions and golds) throw deca::Error when their lengths differ.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace deca::metrics {

// All acceptable answers of each example.
using Golds = std::vector<std::vector<std::string>>;

// Metric name -> value, in the order decaNLP reports them.
class MetricValues {
 public:
  void set(const std::string& name, double value);
  std::optional<double> get(std::string_view name) const;
  const std::vector<std::pair<std::string, double>>& items() const { return items_; }
  nlohmann::ordered_json to_json() const;

 private:
  std::vector<std::pair<std::string, double>> items_;
};

// --- SQuAD-style answers --------------------------------------------------
// Official SQuAD v1.1 normalization: lowercase, drop ASCII punctuation, drop
// the words a/an/the, collapse whitespace.
std::string normalize_answer(std::string_view s);
// Token F1 of two already normalized strings (multiset overlap).
double token_f1(std::string_view prediction, std::string_view gold);
// Exact match of raw strings, max over golds, mean x100.
double exact_match(const std::vector<std::string>& predictions, const Golds& golds);
// nEM and nF1: the same on normalized strings.
double normalized_exact_match(const std::vector<std::string>& predictions, const Golds& golds);
double normalized_f1(const std::vector<std::string>& predictions, const Golds& golds);

// --- IWSLT ------------------------------------------------------------------
struct BleuResult {
  double score = 0;
  std::vector<long> correct, total;  // per n-gram order 1..4
  std::vector<double> precisions;
  double brevity_penalty = 0;
  long sys_len = 0, ref_len = 0;
};
// sacreBLEU 1.2 corpus_bleu(predictions, [references], lowercase=True):
// 13a tokenizer, exponential smoothing, one reference per example.
BleuResult corpus_bleu(const std::vector<std::string>& predictions, const std::vector<std::string>& references);
// The 13a tokenization of one (already lowercased) line.
std::string tokenize_13a(std::string_view line);

// --- CNN/DailyMail ------------------------------------------------------------
struct RougeScores {
  double rouge1 = 0, rouge2 = 0, rougeL = 0, avg = 0;
};
// Per-example ROUGE-1/2/L F-scores as ROUGE-1.5.5 prints them (5 decimals),
// averaged x100; several golds of an example are ROUGE models A, B, ...
RougeScores rouge(const std::vector<std::string>& predictions, const Golds& golds);
// The Porter stemmer of ROUGE-1.5.5 (for tokens of [a-z0-9] as ROUGE sees them).
std::string porter_stem(std::string_view word);

// --- WOZ ----------------------------------------------------------------------
struct DialogueScores {
  double joint_goal_em = 0, turn_request_em = 0, turn_goal_em = 0, avg_dialogue = 0;
};
// `turn_ids` are the "en_<dialogue>_<turn>" ids; `golds` the gold answer strings.
DialogueScores dialogue(const std::vector<std::string>& predictions, const std::vector<std::string>& turn_ids,
                        const std::vector<std::string>& golds);

// --- QA-ZRE ---------------------------------------------------------------------
struct CorpusF1 {
  double f1 = 0, precision = 0, recall = 0;
};
// Inputs are normalized (normalize_answer) strings.
CorpusF1 corpus_f1(const std::vector<std::string>& normalized_predictions, const Golds& normalized_golds);

// --- WikiSQL --------------------------------------------------------------------
struct LogicalForm {
  std::optional<int> sel;  // nullopt: no column matched
  int agg = 0;
  // [column, operator, value]; a condition that lacks its value has value nullopt.
  struct Condition {
    long column = 0;
    long op = 0;
    std::optional<std::string> value;
    bool operator==(const Condition& o) const { return column == o.column && op == o.op && value == o.value; }
  };
  std::vector<Condition> conds;
  bool operator==(const LogicalForm& o) const { return sel == o.sel && agg == o.agg && conds == o.conds; }
};
// decaNLP's to_lf: parses a lowercase "select ... from table where ..." string
// against the table header. nullopt where the reference raises an exception.
std::optional<LogicalForm> parse_logical_form(std::string_view prediction, const std::vector<std::string>& header);
// The gold query {sel, agg, conds} with every condition value as Python's
// str(value).lower().
LogicalForm gold_logical_form(const nlohmann::json& sql);
// Logical-form exact match x100.
double lfem(const std::vector<std::string>& predictions, const std::vector<std::vector<std::string>>& headers,
            const std::vector<nlohmann::json>& sqls);
// One line of the logical-form JSONL the official WikiSQL evaluator reads
// (decaNLP's convert_to_logical_forms): {"query": {sel, conds, agg}, "error": ""}
// or {"query": null, "error": "Invalid"}.
nlohmann::ordered_json logical_form_record(std::string_view prediction, const std::vector<std::string>& header);
// Python's str() of a JSON scalar (str, int, float as repr, bool, None).
std::string python_str(const nlohmann::json& value);

// --- Tagging (CoNLL column files) ------------------------------------------------
// Per sentence, the gold and the predicted tag of each token: "O", or
// "<B|I|E|[|]|.>-<TYPE>" (the type is everything after the first hyphen).
using TaggedSentence = std::vector<std::pair<std::string, std::string>>;
struct ChunkScores {
  long gold = 0, found = 0, correct = 0;     // phrases
  double precision = 0, recall = 0, f1 = 0;  // percent, 0 when undefined
};
struct ConllScores {
  long tokens = 0, correct_tags = 0;
  double accuracy = 0;  // percent of tokens whose tag and type agree
  ChunkScores overall;
  std::map<std::string, ChunkScores> per_type;  // every type seen in gold or predictions
};
// Entity-level scores exactly as conlleval.pl (2004-01-26, the CoNLL-2000/2003
// scorer) counts them with its default options: its chunk start/end rules
// (an I- tag after O starts a chunk, a type change ends one), sentences
// separated as by its blank lines.
ConllScores conlleval(const std::vector<TaggedSentence>& sentences);

// The entities of one sentence's tags, by conlleval's chunk rules.
struct Chunk {
  std::string type;
  size_t begin = 0, end = 0;  // tokens [begin, end)
};
std::vector<Chunk> chunks_of(const std::vector<std::string>& tags);

// Tagging tasks as questions: one sentence's answers, per entity type the
// entities joined by a separator (or "none"), placed back on its tokens as
// B-/I- tags. Each entity goes on the first run of untagged tokens that spells
// it (lowercase, spaces ignored), after the previous entity of its type when
// it can. `unplaced` counts the entities that spell no run: answers the
// scorer must count as found and wrong.
struct PlacedTags {
  std::vector<std::string> tags;
  long unplaced = 0;
};
PlacedTags place_entities(const std::vector<std::string>& tokens,
                          const std::vector<std::pair<std::string, std::string>>& answers_by_type,
                          const std::string& separator);

// Entity-level precision, recall and F1 (percent) of tagging answers: conlleval
// over the sentences' gold tags and the tags place_entities makes of the
// answers, with the unplaced entities added to the found ones.
ChunkScores entity_scores(const std::vector<TaggedSentence>& sentences, long unplaced);

}  // namespace deca::metrics
