// Every golden metric case computed by the original implementations
// (tests/golden/metrics, a copy of shared/golden/metrics: these tests run on
// every checkout) must be reproduced; plus hand-checked unit cases.
#include <cmath>

#include "deca/core/error.h"
#include "deca/metrics/metrics.h"
#include "test_support.h"

namespace dm = deca::metrics;
using nlohmann::json;

namespace {

void expect_close(double expected, double actual, const std::string& what) {
  const double tol = 1e-9 * std::max(1.0, std::fabs(expected));
  EXPECT_NEAR(expected, actual, tol) << what;
}

std::vector<std::string> strings(const json& j) { return j.get<std::vector<std::string>>(); }
dm::Golds golds_of(const json& j) { return j.get<dm::Golds>(); }

// The cases of a golden file, by value: a range-for over a member of a
// temporary (golden(...)["cases"]) would read freed memory.
json golden_cases(const std::string& name) {
  json cases = deca::testing::load_json(deca::testing::golden_metrics_dir() / (name + ".json"))["cases"];
  EXPECT_FALSE(cases.empty()) << name << ": no golden cases";
  return cases;
}

// The em/nem/nf1 triple that decaNLP logs for every task.
void check_squad_family(const std::string& file) {
  for (const auto& c : golden_cases(file)) {
    const std::string id = c["id"];
    const auto preds = strings(c["predictions"]);
    const auto golds = golds_of(c["golds"]);
    const auto& e = c["expected"];
    if (e.contains("em")) expect_close(e["em"], dm::exact_match(preds, golds), id + " em");
    if (e.contains("nem")) expect_close(e["nem"], dm::normalized_exact_match(preds, golds), id + " nem");
    if (e.contains("nf1")) expect_close(e["nf1"], dm::normalized_f1(preds, golds), id + " nf1");
  }
}

}  // namespace

TEST(GoldenMetrics, ExactMatch) { check_squad_family("em"); }
TEST(GoldenMetrics, NormalizedExactMatch) { check_squad_family("nem"); }
TEST(GoldenMetrics, NormalizedF1) { check_squad_family("nf1"); }

TEST(GoldenMetrics, Bleu) {
  for (const auto& c : golden_cases("bleu")) {
    std::vector<std::string> refs;
    for (const auto& g : c["golds"]) refs.push_back(g.at(0));
    const auto r = dm::corpus_bleu(strings(c["predictions"]), refs);
    expect_close(c["expected"]["bleu"], r.score, c["id"]);
    if (c.contains("details") && c["details"].contains("counts")) {
      EXPECT_EQ(c["details"]["counts"].get<std::vector<long>>(), r.correct) << c["id"];
      EXPECT_EQ(c["details"]["totals"].get<std::vector<long>>(), r.total) << c["id"];
    }
  }
}

TEST(GoldenMetrics, Rouge) {
  for (const auto& c : golden_cases("rouge")) {
    const auto r = dm::rouge(strings(c["predictions"]), golds_of(c["golds"]));
    const auto& e = c["expected"];
    const std::string id = c["id"];
    expect_close(e["rouge1"], r.rouge1, id + " rouge1");
    expect_close(e["rouge2"], r.rouge2, id + " rouge2");
    expect_close(e["rougeL"], r.rougeL, id + " rougeL");
    expect_close(e["avg_rouge"], r.avg, id + " avg_rouge");
  }
}

TEST(GoldenMetrics, Dialogue) {
  for (const auto& c : golden_cases("dialogue")) {
    std::vector<std::string> ids, golds;
    for (const auto& g : c["golds"]) {
      ids.push_back(g.at(0));
      golds.push_back(g.at(1));
    }
    const auto d = dm::dialogue(strings(c["predictions"]), ids, golds);
    const auto& e = c["expected"];
    const std::string id = c["id"];
    expect_close(e["joint_goal_em"], d.joint_goal_em, id + " joint_goal_em");
    expect_close(e["turn_request_em"], d.turn_request_em, id + " turn_request_em");
    expect_close(e["turn_goal_em"], d.turn_goal_em, id + " turn_goal_em");
    expect_close(e["avg_dialogue"], d.avg_dialogue, id + " avg_dialogue");
  }
}

TEST(GoldenMetrics, CorpusF1) {
  for (const auto& c : golden_cases("corpus_f1")) {
    std::vector<std::string> preds;
    for (const auto& p : strings(c["predictions"])) preds.push_back(dm::normalize_answer(p));
    dm::Golds golds;
    for (const auto& g : golds_of(c["golds"])) {
      golds.emplace_back();
      for (const auto& a : g) golds.back().push_back(dm::normalize_answer(a));
    }
    const auto r = dm::corpus_f1(preds, golds);
    const auto& e = c["expected"];
    const std::string id = c["id"];
    expect_close(e["corpus_f1"], r.f1, id + " corpus_f1");
    expect_close(e["precision"], r.precision, id + " precision");
    expect_close(e["recall"], r.recall, id + " recall");
  }
}

TEST(GoldenMetrics, LogicalFormExactMatch) {
  for (const auto& c : golden_cases("lfem")) {
    std::vector<std::vector<std::string>> headers;
    std::vector<json> sqls;
    for (const auto& g : c["golds"]) {
      headers.push_back(g["table"]["header"].get<std::vector<std::string>>());
      sqls.push_back(g["sql"]);
    }
    expect_close(c["expected"]["lfem"], dm::lfem(strings(c["predictions"]), headers, sqls), c["id"]);
  }
}

// ---- Cases checked by hand against the reference's definitions ------------

// conlleval.pl's counts and scores, including its own handling of I- tags
// that start chunks and of type changes inside a chunk.
TEST(GoldenMetrics, Conlleval) {
  // conlleval prints per-type scores with %6.2f.
  auto printed = [](double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", x);
    return std::strtod(buf, nullptr);
  };
  for (const auto& c : golden_cases("conlleval")) {
    const std::string id = c["name"];
    std::vector<dm::TaggedSentence> sentences;
    for (const auto& sentence : c["sentences"]) {
      sentences.emplace_back();
      for (const auto& token : sentence) sentences.back().emplace_back(token[1], token[2]);
    }
    const auto r = dm::conlleval(sentences);
    const auto& e = c["expected"];
    EXPECT_EQ(r.tokens, e["tokens"].get<long>()) << id;
    EXPECT_EQ(r.overall.gold, e["gold_phrases"].get<long>()) << id;
    EXPECT_EQ(r.overall.found, e["found_phrases"].get<long>()) << id;
    EXPECT_EQ(r.overall.correct, e["correct_phrases"].get<long>()) << id;
    expect_close(e["precision"], r.overall.precision, id + " precision");
    expect_close(e["recall"], r.overall.recall, id + " recall");
    expect_close(e["f1"], r.overall.f1, id + " f1");
    ASSERT_EQ(r.per_type.size(), e["per_type"].size()) << id;
    for (const auto& [type, x] : e["per_type"].items()) {
      ASSERT_TRUE(r.per_type.count(type)) << id << " " << type;
      const auto& got = r.per_type.at(type);
      EXPECT_EQ(printed(got.precision), x["precision"].get<double>()) << id << " " << type;
      EXPECT_EQ(printed(got.recall), x["recall"].get<double>()) << id << " " << type;
      EXPECT_EQ(printed(got.f1), x["f1"].get<double>()) << id << " " << type;
      EXPECT_EQ(got.found, x["found"].get<long>()) << id << " " << type;
    }
  }
}

// A hand-checked case: an I- tag after O starts a phrase, a type change ends one.
TEST(Metrics, ConllevalCountsPhrasesAsConlleval) {
  const std::vector<dm::TaggedSentence> sentences = {
      {{"B-LOC", "B-LOC"}, {"I-LOC", "I-LOC"}, {"O", "O"}, {"B-PER", "I-PER"}},  // both right: I-PER after O starts PER
      {{"B-ORG", "B-ORG"}, {"I-ORG", "I-LOC"}, {"O", "O"}}};                     // wrong: the type changes inside
  const auto r = dm::conlleval(sentences);
  EXPECT_EQ(r.tokens, 7);
  EXPECT_EQ(r.correct_tags, 5);
  EXPECT_EQ(r.overall.gold, 3);
  EXPECT_EQ(r.overall.found, 4);  // ORG and LOC in the second sentence
  EXPECT_EQ(r.overall.correct, 2);
  EXPECT_DOUBLE_EQ(r.overall.precision, 50.0);
  EXPECT_NEAR(r.overall.recall, 200.0 / 3, 1e-12);
  EXPECT_EQ(r.per_type.at("LOC").found, 2);
  EXPECT_EQ(r.per_type.at("LOC").correct, 1);
  const auto none = dm::conlleval({});
  EXPECT_EQ(none.tokens, 0);
  EXPECT_EQ(none.overall.f1, 0.0);
  EXPECT_TRUE(none.per_type.empty());
}

TEST(Metrics, NormalizeAnswerFollowsSquad) {
  EXPECT_EQ(dm::normalize_answer("The  Denver Broncos!"), "denver broncos");
  EXPECT_EQ(dm::normalize_answer("an apple a day"), "apple day");
  EXPECT_EQ(dm::normalize_answer("theater"), "theater");
  EXPECT_EQ(dm::normalize_answer("."), "");
}

TEST(Metrics, PorterStemmerMatchesRouge) {
  EXPECT_EQ(dm::porter_stem("caresses"), "caress");
  EXPECT_EQ(dm::porter_stem("ponies"), "poni");
  EXPECT_EQ(dm::porter_stem("relational"), "relat");
  EXPECT_EQ(dm::porter_stem("hopping"), "hop");
  EXPECT_EQ(dm::porter_stem("filing"), "file");
  EXPECT_EQ(dm::porter_stem("happy"), "happi");
  EXPECT_EQ(dm::porter_stem("agreement"), "agreem");  // -ement fails m>1, then -ent applies
  EXPECT_EQ(dm::porter_stem("adjustment"), "adjust");
  EXPECT_EQ(dm::porter_stem("controll"), "control");
  EXPECT_EQ(dm::porter_stem("yelling"), "yell");
}

TEST(Metrics, BleuTokenizer13a) {
  EXPECT_EQ(dm::tokenize_13a("hello, world."), "hello , world .");
  EXPECT_EQ(dm::tokenize_13a("3.5 and 1,000"), "3.5 and 1,000");
  EXPECT_EQ(dm::tokenize_13a("1990-2000 a&amp;b"), "1990 - 2000 a & b");
}

TEST(Metrics, LogicalFormParsesTheReferenceExample) {
  const std::vector<std::string> header = {"Player", "No.", "Nationality", "Position"};
  auto lf = dm::parse_logical_form("select count player from table where no. = 3 and position = guard", header);
  ASSERT_TRUE(lf.has_value());
  EXPECT_EQ(lf->sel, 0);
  EXPECT_EQ(lf->agg, 3);
  ASSERT_EQ(lf->conds.size(), 2u);
  EXPECT_EQ(lf->conds[0].column, 1);
  EXPECT_EQ(lf->conds[0].value, "3");
  EXPECT_EQ(lf->conds[1].value, "guard");
  EXPECT_FALSE(dm::parse_logical_form("select bogus player from table", header).has_value());
}

// Numbers in a prediction are Python ints (unbounded): 2^64 + 1 must not wrap
// around to column 1 and so match a gold condition on that column.
TEST(Metrics, LogicalFormNumbersDoNotWrapAround) {
  const std::vector<std::string> header = {"Player", "No."};
  auto lf = dm::parse_logical_form("select player from table where Col18446744073709551617 Cond0 x", header);
  ASSERT_TRUE(lf.has_value());
  ASSERT_EQ(lf->conds.size(), 1u);
  EXPECT_GT(lf->conds[0].column, 1000000);
  EXPECT_FALSE(
      dm::parse_logical_form("select player from table where no. = Col-99999999999999999999999", header).has_value());
}

TEST(Metrics, ParallelListsMustHaveEqualLengths) {
  const std::vector<std::string> two = {"a", "b"};
  const dm::Golds one = {{"a"}};
  EXPECT_THROW(dm::exact_match(two, one), deca::Error);
  EXPECT_THROW(dm::normalized_f1(two, one), deca::Error);
  EXPECT_THROW(dm::corpus_bleu(two, {"a"}), deca::Error);
  EXPECT_THROW(dm::rouge(two, one), deca::Error);
  EXPECT_THROW(dm::corpus_f1(two, one), deca::Error);
  EXPECT_THROW(dm::dialogue(two, {"en_0_0"}, two), deca::Error);
  EXPECT_THROW(dm::lfem(two, {{"x"}}, {nlohmann::json::object(), nlohmann::json::object()}), deca::Error);
}

TEST(Metrics, PythonStrOfJsonScalars) {
  EXPECT_EQ(dm::python_str(json::parse("243.0")), "243.0");
  EXPECT_EQ(dm::python_str(json::parse("150817.6878461314")), "150817.6878461314");
  EXPECT_EQ(dm::python_str(json::parse("375")), "375");
  EXPECT_EQ(dm::python_str(json::parse("1e16")), "1e+16");
  EXPECT_EQ(dm::python_str(json::parse("0.0001")), "0.0001");
  EXPECT_EQ(dm::python_str(json::parse("0.00001")), "1e-05");
  EXPECT_EQ(dm::python_str(json::parse("\"Abc\"")), "Abc");
}
