// Scoring prediction files: joining by id, the errors that name what is wrong,
// thresholds and the report formats.
#include <fstream>
#include <random>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/eval/files.h"
#include "deca/eval/report.h"
#include "deca/tasks/jsonl.h"
#include "deca/tasks/task.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

class JsonlTest : public ::testing::Test {
 protected:
  deca::testing::TempDir tmp_{"deca-jsonl"};
  const fs::path& dir_ = tmp_.path();
  fs::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return dir_ / name;
  }
  std::string error_of(const std::function<void()>& f) {
    try {
      f();
    } catch (const deca::Error& e) {
      return e.what();
    }
    return "";
  }
};

const char* kGold =
    R"({"id": "0", "task": "sst", "context": "a", "question": "q", "answers": ["positive"], "meta": {}})"
    "\n"
    R"({"id": "1", "task": "sst", "context": "b", "question": "q", "answers": ["negative"], "meta": {}})"
    "\n";

TEST_F(JsonlTest, PredictionsAreJoinedById) {
  const auto gold = deca::read_examples_jsonl(write("gold.jsonl", kGold));
  const auto pred = deca::read_predictions_jsonl(
      write("pred.jsonl", "{\"id\": \"1\", \"answer\": \"negative\"}\n\n{\"id\": 0, \"answer\": \"negative\"}\n"));
  const auto aligned = deca::align_predictions(gold, pred, "pred.jsonl");
  EXPECT_EQ(aligned, (std::vector<std::string>{"negative", "negative"}));
  const auto values = deca::find_task("sst")->score(aligned, gold);
  EXPECT_DOUBLE_EQ(*values.get("em"), 50.0);
}

TEST_F(JsonlTest, MissingExtraAndRepeatedIdsNameTheId) {
  const auto gold = deca::read_examples_jsonl(write("gold.jsonl", kGold));
  auto missing = deca::read_predictions_jsonl(write("p1.jsonl", "{\"id\": \"0\", \"answer\": \"x\"}\n"));
  EXPECT_NE(error_of([&] { deca::align_predictions(gold, missing, "p1.jsonl"); }).find("no prediction for id \"1\""),
            std::string::npos);
  auto extra = deca::read_predictions_jsonl(write(
      "p2.jsonl",
      "{\"id\": \"0\", \"answer\": \"x\"}\n{\"id\": \"1\", \"answer\": \"x\"}\n{\"id\": \"7\", \"answer\": \"x\"}\n"));
  EXPECT_NE(error_of([&] { deca::align_predictions(gold, extra, "p2.jsonl"); }).find("p2.jsonl:3: id \"7\""),
            std::string::npos);
  auto repeated = deca::read_predictions_jsonl(
      write("p3.jsonl", "{\"id\": \"0\", \"answer\": \"x\"}\n{\"id\": \"0\", \"answer\": \"y\"}\n"));
  EXPECT_NE(error_of([&] {
              deca::align_predictions(gold, repeated, "p3.jsonl");
            }).find("p3.jsonl:2: id \"0\" repeats line 1"),
            std::string::npos);
}

TEST_F(JsonlTest, RepeatedGoldIdsAreAnError) {
  const std::string twice = std::string(kGold) +
                            R"({"id": "1", "task": "sst", "context": "c", "question": "q", "answers": ["x"]})"
                            "\n";
  EXPECT_NE(error_of([&] {
              deca::read_examples_jsonl(write("gold2.jsonl", twice));
            }).find("gold2.jsonl:3: id \"1\" repeats line 2"),
            std::string::npos);
}

TEST_F(JsonlTest, BadLinesNameFileAndLine) {
  EXPECT_NE(error_of([&] {
              deca::read_predictions_jsonl(write("bad.jsonl", "{\"id\": \"0\", \"answer\": \"x\"}\n{oops\n"));
            }).find("bad.jsonl:2: invalid JSON"),
            std::string::npos);
  EXPECT_NE(
      error_of([&] { deca::read_predictions_jsonl(write("bad2.jsonl", "{\"id\": \"0\"}\n")); }).find("bad2.jsonl:1"),
      std::string::npos);
  EXPECT_NE(
      error_of([&] {
        deca::read_examples_jsonl(write("bad3.jsonl", "{\"id\": \"0\", \"context\": \"c\", \"question\": \"q\"}\n"));
      }).find("bad3.jsonl:1: expected \"answers\""),
      std::string::npos);
}

deca::EvalReport sample_report() {
  deca::EvalReport r;
  r.split = "validation";
  deca::TaskResult squad;
  squad.task = "squad";
  squad.values.set("em", 40);
  squad.values.set("nf1", 55.5);
  squad.decascore_entry = 55.5;
  squad.decascore_metric = "nf1";
  squad.examples = 10;
  r.tasks.push_back(squad);
  deca::TaskResult sst = squad;
  sst.task = "sst";
  sst.values = {};
  sst.values.set("em", 90);
  sst.decascore_entry = 90;
  sst.decascore_metric = "em";
  r.tasks.push_back(sst);
  r.decascore = 145.5;
  return r;
}

TEST(Report, ThresholdsNameWhatWasMissed) {
  auto r = sample_report();
  r.check({deca::parse_threshold("squad.nf1=60"), deca::parse_threshold("sst.em=80"),
           deca::parse_threshold("decascore=150")});
  ASSERT_EQ(r.failures.size(), 2u);
  EXPECT_NE(r.failures[0].find("squad nf1 55.5000 is below 60.0000"), std::string::npos);
  EXPECT_NE(r.failures[1].find("decaScore 145.5000 is below 150.0000"), std::string::npos);
  EXPECT_THROW(r.check({deca::parse_threshold("woz.en.joint_goal_em=1")}), deca::ConfigError);
  EXPECT_THROW(r.check({deca::parse_threshold("squad.bleu=1")}), deca::ConfigError);
  EXPECT_THROW(deca::parse_threshold("squad.nf1"), deca::ConfigError);
  EXPECT_THROW(deca::parse_threshold("squad.nf1=high"), deca::ConfigError);
  EXPECT_EQ(deca::parse_threshold("iwslt.en.de.bleu=20").task, "iwslt.en.de");
}

TEST(Report, ThresholdsAreCheckedBeforeAnyWork) {
  EXPECT_THROW(deca::parse_threshold("sst.em=nan"), deca::ConfigError);
  EXPECT_THROW(deca::parse_threshold("decascore=inf"), deca::ConfigError);
  const std::vector<std::pair<std::string, std::vector<std::string>>> tasks = {
      {"sst", deca::find_task("sst")->metric_names()}, {"wikisql", deca::find_task("wikisql")->metric_names()}};
  EXPECT_NO_THROW(
      deca::check_thresholds({deca::parse_threshold("wikisql.lfem=10"), deca::parse_threshold("decascore=1")}, tasks));
  EXPECT_THROW(deca::check_thresholds({deca::parse_threshold("squad.nf1=10")}, tasks), deca::ConfigError);
  EXPECT_THROW(deca::check_thresholds({deca::parse_threshold("sst.accuracy=10")}, tasks), deca::ConfigError);
}

// --compare/--max-drop: each metric both reports have, with its change; a
// metric that fell by more than its allowed drop is a failure, one that fell
// by less (or rose) is not; tasks only one report has are listed.
TEST(Report, ComparisonWithAnEarlierReportGatesOnDrops) {
  deca::testing::TempDir dir("deca-compare");
  auto earlier = sample_report();  // squad nf1 55.5, sst em 90, decaScore 145.5
  deca::TaskResult woz;
  woz.task = "woz.en";
  woz.values.set("joint_goal_em", 70);
  earlier.tasks.push_back(woz);
  const std::string file = (dir.path() / "earlier.json").string();
  std::ofstream(file) << earlier.to_json().dump(2);
  const auto previous = deca::read_previous_report(file);

  auto now = sample_report();
  now.tasks[0].values.set("nf1", 52.0);  // squad nf1 fell by 3.5
  now.tasks[1].values.set("em", 91.0);   // sst em rose by 1
  now.decascore = 143.0;
  now.compare_with(
      previous, {deca::parse_threshold("squad.nf1=3.4", "--max-drop"), deca::parse_threshold("sst.em=0", "--max-drop"),
                 deca::parse_threshold("decascore=2.5", "--max-drop")});
  ASSERT_EQ(now.failures.size(), 1u);
  EXPECT_EQ(now.failures[0],
            "squad nf1 fell by 3.5000 (from 55.5000 to 52.0000), more than the 3.4000 allowed (--max-drop)");
  ASSERT_TRUE(now.comparison.has_value());
  ASSERT_EQ(now.comparison->changes.size(), 4u);  // squad em, nf1; sst em; decaScore
  EXPECT_EQ(now.comparison->changes[1].metric, "nf1");
  EXPECT_DOUBLE_EQ(now.comparison->changes[1].previous, 55.5);
  EXPECT_DOUBLE_EQ(now.comparison->changes[1].now, 52.0);
  EXPECT_EQ(now.comparison->changes[3].metric, "decascore");
  EXPECT_EQ(now.comparison->dropped_tasks, std::vector<std::string>{"woz.en"});
  const std::string table = now.table();
  EXPECT_NE(table.find("compared with " + file), std::string::npos) << table;
  EXPECT_NE(table.find("-3.50"), std::string::npos) << table;
  EXPECT_NE(table.find("only in " + file + ": woz.en"), std::string::npos) << table;
  EXPECT_DOUBLE_EQ(now.to_json()["comparison"]["changes"][1]["change"].get<double>(), -3.5);
  EXPECT_NE(now.junit().find("<failure message=\"squad nf1 fell by"), std::string::npos);

  // A drop named on a metric the earlier report lacks is an error before any work.
  EXPECT_THROW(deca::check_drops({deca::parse_threshold("zre.corpus_f1=1", "--max-drop")}, previous),
               deca::ConfigError);
  EXPECT_THROW(deca::check_drops({deca::parse_threshold("sst.em=-1", "--max-drop")}, previous), deca::ConfigError);
  std::ofstream(dir.path() / "other.json") << R"({"tasks": []})";
  EXPECT_THROW(deca::read_previous_report((dir.path() / "other.json").string()), deca::DataError);
}

// metric_names() lists exactly what score() reports, in its order.
TEST(Report, MetricNamesAreWhatScoreReports) {
  for (const char* name : {"squad", "iwslt.en.de", "cnn_dailymail", "sst", "zre", "woz.en", "wikisql"}) {
    const auto task = deca::find_task(name);
    deca::Example ex;
    ex.task = name;
    ex.id = "0";
    ex.answers = {"a gold answer"};
    ex.meta = nlohmann::json::parse(
        R"({"header": ["col"], "sql": {"sel": 0, "agg": 0, "conds": []}, "lang_dialogue_turn": "en_0_0"})");
    std::vector<std::string> keys;
    const std::vector<std::string> predictions = {"an answer"};
    const std::vector<deca::Example> golds = {ex};
    SCOPED_TRACE(name);
    const auto values = task->score(predictions, golds);
    for (const auto& [k, v] : values.items()) keys.push_back(k);
    EXPECT_EQ(keys, task->metric_names()) << name;
  }
}

TEST(Report, JunitHasOneCasePerTaskAndFailureElements) {
  auto r = sample_report();
  r.check({deca::parse_threshold("squad.nf1=60")});
  const std::string xml = r.junit();
  EXPECT_NE(xml.find("<testsuites>"), std::string::npos);
  EXPECT_NE(xml.find("<testsuite name=\"deca-eval\" tests=\"3\" failures=\"1\""), std::string::npos);
  EXPECT_NE(xml.find("<testcase classname=\"deca.validation\" name=\"squad\""), std::string::npos);
  EXPECT_NE(xml.find("<failure message=\"squad nf1 55.5000 is below 60.0000\" type=\"threshold\">"), std::string::npos);
  EXPECT_NE(xml.find("name=\"decascore\""), std::string::npos);
  // Every opened element is closed.
  for (const char* tag : {"testsuites", "testsuite", "testcase", "failure", "system-out"}) {
    size_t open = 0, close = 0;
    for (size_t p = 0; (p = xml.find(std::string("<") + tag + (std::string(tag) == "testsuites" ? ">" : " "), p)) !=
                       std::string::npos;
         ++p)
      ++open;
    if (std::string(tag) == "system-out")
      for (size_t p = 0; (p = xml.find("<system-out>", p)) != std::string::npos; ++p) ++open;
    for (size_t p = 0; (p = xml.find(std::string("</") + tag + ">", p)) != std::string::npos; ++p) ++close;
    EXPECT_EQ(open, close) << tag;
  }
  const auto j = r.to_json();
  EXPECT_DOUBLE_EQ(j["decascore"]["total"].get<double>(), 145.5);
  EXPECT_EQ(j["failures"].size(), 1u);
  EXPECT_NE(r.markdown().find("| squad | nf1 | 55.50 | 10 |"), std::string::npos);
}

}  // namespace

// A --max-examples evaluation says so in every report, so a subset's score is
// never read as the split's.
TEST(Report, ASubsetSaysSoInEveryReport) {
  auto r = sample_report();
  EXPECT_FALSE(r.to_json().contains("subset"));
  EXPECT_EQ(r.junit().find("max_examples"), std::string::npos);
  r.max_examples = 200;
  const std::string note =
      "a subset: the first 200 examples of each task (--max-examples), not the whole validation split";
  EXPECT_EQ(r.to_json()["subset"]["max_examples"], 200);
  EXPECT_EQ(r.to_json()["subset"]["note"], note);
  EXPECT_NE(r.table().find(note), std::string::npos) << r.table();
  EXPECT_NE(r.markdown().find(note), std::string::npos) << r.markdown();
  EXPECT_NE(r.junit().find("<property name=\"max_examples\" value=\"200\"/>"), std::string::npos) << r.junit();
}

// The decaScore is the sum of the entries the report shows (a tagging task's
// entity_f1, not its nF1), and says how many of the ten tasks it covers.
TEST(Report, TheDecaScoreIsTheSumOfItsEntriesAndSaysWhatItCovers) {
  deca::EvalReport r;
  r.split = "test";
  deca::TaskResult sst;
  sst.task = "sst";
  sst.values.set("em", 80);
  sst.decascore_metric = "em";
  sst.decascore_entry = 80;
  r.add(sst);
  EXPECT_EQ(r.decascore_label(), "decaScore (1 of 10 tasks)");
  deca::TaskResult ner;  // a CoNLL tagging task of the data root
  ner.task = "conll_ner";
  ner.values.set("nf1", 62.09);
  ner.values.set("entity_f1", 31.21);
  ner.decascore_metric = "entity_f1";
  ner.decascore_entry = 31.21;
  r.add(ner);
  EXPECT_DOUBLE_EQ(r.decascore, 80 + 31.21);
  EXPECT_EQ(r.decascore_label(), "decaScore (1 of 10 tasks + 1 other)");
  auto j = r.to_json();
  EXPECT_DOUBLE_EQ(j["decascore"]["total"].get<double>(), 111.21);
  EXPECT_EQ(j["decascore"]["label"], "decaScore (1 of 10 tasks + 1 other)");
  EXPECT_EQ(j["decascore"]["complete"], false);
  EXPECT_NE(r.table().find("decaScore (1 of 10 tasks + 1 other), sum"), std::string::npos) << r.table();
  EXPECT_NE(r.markdown().find("| **decaScore (1 of 10 tasks + 1 other)** | sum | **111.21** |"), std::string::npos)
      << r.markdown();
  deca::EvalReport all;
  for (const auto& name : deca::decathlon_tasks()) {
    deca::TaskResult t = sst;
    t.task = name;
    all.add(t);
  }
  EXPECT_EQ(all.decascore_label(), "decaScore");
  EXPECT_EQ(all.to_json()["decascore"]["complete"], true);
  EXPECT_DOUBLE_EQ(all.decascore, 800);
}

TEST(Report, ZeroShotTasksAreMarked) {
  auto r = sample_report();
  EXPECT_FALSE(r.to_json().contains("seen_in_training"));  // prediction files: unknown
  EXPECT_EQ(r.table().find("zero-shot"), std::string::npos);
  r.tasks[0].seen_in_training = true;
  r.tasks[1].seen_in_training = false;
  const auto j = r.to_json();
  EXPECT_EQ(j["seen_in_training"]["squad"], true);
  EXPECT_EQ(j["seen_in_training"]["sst"], false);
  EXPECT_NE(r.table().find("sst*"), std::string::npos) << r.table();
  EXPECT_EQ(r.table().find("squad*"), std::string::npos) << r.table();
  EXPECT_NE(r.table().find("zero-shot"), std::string::npos);
  EXPECT_NE(r.markdown().find("| sst* |"), std::string::npos) << r.markdown();
  EXPECT_NE(r.markdown().find("zero-shot"), std::string::npos);
}

// Gold rows that name no task cannot catch a misspelt --task: a name a typo
// away from a decathlon task is refused ("did you mean"); another name is a
// custom task, scored by nF1.
TEST(PredictionFiles, AMisspeltTaskIsRefusedWhenTheGoldNamesNone) {
  deca::testing::TempDir tmp("deca-misspelt");
  const auto gold = tmp.path() / "gold.jsonl", pred = tmp.path() / "pred.jsonl";
  deca::write_file_atomic(
      gold, R"({"id": "1", "context": "paris is in france", "question": "where is paris?", "answers": ["france"]})"
            "\n");
  deca::write_file_atomic(pred, R"({"id": "1", "answer": "france"})"
                                "\n");
  const auto msg = deca::testing::what_of([&] { deca::score_prediction_files({{"squda", gold, pred}}, {}, {}); });
  EXPECT_NE(msg.find("did you mean squad?"), std::string::npos) << msg;
  const auto custom = deca::score_prediction_files({{"capitals", gold, pred}}, {}, {});
  EXPECT_EQ(custom.tasks.at(0).decascore_metric, "nf1");
  EXPECT_DOUBLE_EQ(custom.decascore, 100);
  EXPECT_DOUBLE_EQ(deca::score_prediction_files({{"squad", gold, pred}}, {}, {}).decascore, 100);
}
