// Tagging tasks as questions: the CoNLL reader on the sample task, and the
// entity-level scores of answers placed back on the tokens.
#include "deca/metrics/metrics.h"
#include "deca/tasks/task.h"
#include "test_support.h"

namespace dm = deca::metrics;

namespace {

const std::filesystem::path kRoot = deca::testing::source_dir() / "data" / "sample";

std::vector<std::string> gold_answers(const std::vector<deca::Example>& examples) {
  std::vector<std::string> out;
  for (const auto& e : examples) out.push_back(e.answer());
  return out;
}

}  // namespace

TEST(Tagging, EachSentenceIsAskedOncePerEntityType) {
  const auto task = deca::find_task("ner", kRoot);
  const auto examples = task->read(kRoot, deca::Split::Validation);
  ASSERT_EQ(examples.size(), 30u * 4);  // 30 sentences, PER LOC ORG MISC in task.json's order
  // The first sentence: "Nordic Rail and Bell Labs signed an agreement in Buenos Aires ."
  EXPECT_EQ(examples[0].context, "Nordic Rail and Bell Labs signed an agreement in Buenos Aires .");
  EXPECT_EQ(examples[0].question, "Which words are people?");
  EXPECT_EQ(examples[0].answer(), "none");
  EXPECT_EQ(examples[1].answer(), "Buenos Aires");
  EXPECT_EQ(examples[2].question, "Which words are organizations?");
  EXPECT_EQ(examples[2].answer(), "Nordic Rail; Bell Labs");  // in order, joined by task.json's separator
  EXPECT_EQ(examples[3].answer(), "none");
  EXPECT_EQ(examples[4].context.substr(0, 10), examples[7].context.substr(0, 10));
  EXPECT_EQ(task->metric_names().back(), "entity_recall");
  EXPECT_EQ(task->scoring().decascore_metric, "entity_f1");
}

TEST(Tagging, GoldAnswersScoreFullMarksAndErrorsCountAsConllevalCounts) {
  const auto task = deca::find_task("ner", kRoot);
  const auto examples = task->read(kRoot, deca::Split::Validation);
  auto answers = gold_answers(examples);
  long gold_entities = 0;
  for (const auto& e : examples)
    for (const auto& c : dm::chunks_of(e.meta["tags"].get<std::vector<std::string>>()))
      gold_entities += c.type == e.meta["type"];
  auto v = task->score(answers, examples);
  EXPECT_DOUBLE_EQ(*v.get("entity_f1"), 100.0);
  EXPECT_DOUBLE_EQ(*v.get("nf1"), 100.0);
  // Lowercase, other spacing and another order place the same entities.
  answers[2] = "bell labs ;nordic  rail";
  EXPECT_DOUBLE_EQ(*task->score(answers, examples).get("entity_f1"), 100.0);
  // One entity missed, one spurious entity that spells no run of the sentence,
  // one wrong entity on real tokens: 3 errors against the gold entities.
  answers[1] = "none";          // Buenos Aires missed
  answers[0] = "Grace Hopper";  // not in the sentence: found, wrong
  answers[3] = "agreement";     // on the sentence's tokens: found, wrong
  v = task->score(answers, examples);
  const double found = static_cast<double>(gold_entities - 1 + 2), correct = static_cast<double>(gold_entities - 1);
  EXPECT_NEAR(*v.get("entity_precision"), 100 * correct / found, 1e-9);
  EXPECT_NEAR(*v.get("entity_recall"), 100 * correct / static_cast<double>(gold_entities), 1e-9);
}

TEST(Tagging, ChunksFollowConllevalsRules) {
  const std::vector<std::string> tags = {"I-LOC", "I-LOC", "O", "B-PER", "B-PER", "I-ORG", "I-PER", "O"};
  const auto c = dm::chunks_of(tags);
  ASSERT_EQ(c.size(), 5u);  // I- after O starts one; B- after B- and a type change start new ones
  EXPECT_EQ(c[0].type, "LOC");
  EXPECT_EQ(c[0].begin, 0u);
  EXPECT_EQ(c[0].end, 2u);
  EXPECT_EQ(c[2].begin, 4u);
  EXPECT_EQ(c[2].end, 5u);
  EXPECT_EQ(c[3].type, "ORG");
  EXPECT_EQ(c[4].type, "PER");
  EXPECT_EQ(c[4].end, 7u);
  // Agreement with the scorer: every chunk of the gold tags, predicted as is, is correct.
  const auto s = dm::conlleval({dm::TaggedSentence{{tags[0], tags[0]},
                                                   {tags[1], tags[1]},
                                                   {tags[2], tags[2]},
                                                   {tags[3], tags[3]},
                                                   {tags[4], tags[4]},
                                                   {tags[5], tags[5]},
                                                   {tags[6], tags[6]},
                                                   {tags[7], tags[7]}}});
  EXPECT_EQ(s.overall.gold, 5);
  EXPECT_EQ(s.overall.correct, 5);
}

TEST(Tagging, EntitiesArePlacedInOrderOnUntaggedTokens) {
  const std::vector<std::string> tokens = {"Paris", "and", "Paris", "Hilton", "met", "in", "Paris", "."};
  // Two LOC "Paris": the first run, then the next one after it; PER takes "Paris Hilton" first.
  const auto p = dm::place_entities(tokens, {{"PER", "Paris Hilton"}, {"LOC", "Paris; Paris"}, {"ORG", "none"}}, "; ");
  EXPECT_EQ(p.tags, (std::vector<std::string>{"B-LOC", "O", "B-PER", "I-PER", "O", "O", "B-LOC", "O"}));
  EXPECT_EQ(p.unplaced, 0);
  const auto q = dm::place_entities(tokens, {{"LOC", "London; Paris"}}, "; ");
  EXPECT_EQ(q.unplaced, 1);
  EXPECT_EQ(q.tags[0], "B-LOC");
}
