// The executables from the outside: exit codes, stdout formats, error messages.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>

#include "deca/core/config.h"
#include "deca/core/io.h"
#include "deca/core/version.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

using deca::testing::sh;

class Cli : public ::testing::Test {
 protected:
  std::string bin(const char* name) { return (fs::path(DECA_BIN_DIR) / name).string(); }
  deca::testing::TempDir tmp_{"deca-cli"};
  const fs::path& dir_ = tmp_.path();
  const std::string sample_ = (deca::testing::source_dir() / "data" / "sample").string();
};

TEST_F(Cli, ExportWritesOneObjectPerExample) {
  const auto r = sh(bin("deca-data") + " export --data-root " + sample_ + " --task schema --split test > " +
                    (dir_ / "s.jsonl").string());
  ASSERT_EQ(r.code, 0) << r.out;
  long lines = 0;
  deca::for_each_line(dir_ / "s.jsonl", [&](std::string_view line, long) {
    const auto j = nlohmann::json::parse(line);
    for (const char* k : {"id", "task", "context", "question", "answers", "meta"}) EXPECT_TRUE(j.contains(k)) << k;
    ++lines;
  });
  EXPECT_EQ(lines, 100);
  const auto bad = sh(bin("deca-data") + " export --data-root " + sample_ + " --task nosuch --split test");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.out.find("unknown task \"nosuch\""), std::string::npos) << bad.out;
}

// deca-data tokenizer / encode / decode: the config's tokenizer, one JSON line
// per text line, the text back exactly; a bad line is named and still answered.
TEST_F(Cli, TokenizerEncodeDecodeRoundTrip) {
  const std::string model = (dir_ / "tok.model").string(),
                    config = (deca::testing::source_dir() / "configs" / "quickstart.json").string();
  auto r = sh(bin("deca-data") + " tokenizer --config " + config + " --data-root " + sample_ +
              " --set tokenizer.vocab_size=600 --output " + model);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(fs::exists(dir_ / "tok.json"));
  { std::ofstream(dir_ / "texts.txt") << "The Louvre (Paris) opened in 1793.\n\nprice range: cheap,  area: east\n"; }
  r = sh(bin("deca-data") + " encode --tokenizer " + model + " --input " + (dir_ / "texts.txt").string() + " > " +
         (dir_ / "enc.jsonl").string());
  ASSERT_EQ(r.code, 0) << r.out;
  std::vector<nlohmann::json> lines;
  deca::for_each_line(dir_ / "enc.jsonl",
                      [&](std::string_view line, long) { lines.push_back(nlohmann::json::parse(line)); });
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["pieces"].size(), lines[0]["ids"].size());
  EXPECT_TRUE(lines[1]["ids"].empty());
  r = sh("cat " + (dir_ / "enc.jsonl").string() + " | " + bin("deca-data") + " decode --tokenizer " + model +
         " --input -");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "the louvre (paris) opened in 1793.\n\nprice range: cheap,  area: east\n");
  { std::ofstream(dir_ / "bad.jsonl") << "{\"ids\": [5]}\n{\"ids\": [99999]}\nnot json\n"; }
  r = sh(bin("deca-data") + " decode --tokenizer " + model + " --input " + (dir_ / "bad.jsonl").string() + " 2>" +
         (dir_ / "err.txt").string());
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3) << r.out;  // one line per input line
  const std::string err = deca::read_file(dir_ / "err.txt");
  EXPECT_NE(err.find("bad.jsonl:2"), std::string::npos) << err;
  EXPECT_NE(err.find("outside the vocabulary"), std::string::npos) << err;
  EXPECT_NE(err.find("bad.jsonl:3"), std::string::npos) << err;
}

TEST_F(Cli, EvalScoresPredictionFilesAndGates) {
  const std::string gold = (dir_ / "gold").string(), pred = (dir_ / "pred").string();
  fs::create_directories(gold);
  fs::create_directories(pred);
  for (const char* task : {"sst", "wikisql"}) {
    ASSERT_EQ(sh(bin("deca-data") + " export --data-root " + sample_ + " --task " + task + " --split validation > " +
                 gold + "/" + task + ".jsonl")
                  .code,
              0);
    // Perfect predictions: the first gold answer, lowercased as a model outputs it.
    std::ofstream out(pred + "/" + task + ".jsonl");
    deca::for_each_line(gold + "/" + task + ".jsonl", [&](std::string_view line, long) {
      auto j = nlohmann::json::parse(line);
      std::string a = j["answers"][0];
      for (char& c : a) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out << nlohmann::json{{"id", j["id"]}, {"answer", a}}.dump() << "\n";
    });
  }
  const std::string junit = (dir_ / "junit.xml").string();
  auto r = sh(bin("deca-eval") + " --gold-dir " + gold + " --predictions-dir " + pred + " --junit " + junit +
              " 2>/dev/null");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_DOUBLE_EQ(report["tasks"]["sst"]["em"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(report["tasks"]["wikisql"]["lfem"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(report["decascore"]["total"].get<double>(), 200.0);
  EXPECT_TRUE(fs::exists(junit));

  r = sh(bin("deca-eval") + " --task sst --gold " + gold + "/sst.jsonl --predictions " + pred +
         "/sst.jsonl --fail-under sst.em=100.5");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.out.find("sst em 100.0000 is below 100.5000"), std::string::npos) << r.out;

  // A CI regression gate: the perfect report is the baseline; all-"positive" answers fall below it.
  const std::string baseline = (dir_ / "baseline.json").string();
  ASSERT_EQ(sh(bin("deca-eval") + " --task sst --gold " + gold + "/sst.jsonl --predictions " + pred +
               "/sst.jsonl --report-json " + baseline + " >/dev/null 2>&1")
                .code,
            0);
  std::string positive;
  deca::for_each_line(gold + "/sst.jsonl", [&](std::string_view line, long) {
    positive += nlohmann::json{{"id", nlohmann::json::parse(line)["id"]}, {"answer", "positive"}}.dump() + "\n";
  });
  deca::write_file_atomic(dir_ / "positive.jsonl", positive);
  const std::string positive_pair =
      " --task sst --gold " + gold + "/sst.jsonl --predictions " + (dir_ / "positive.jsonl").string();
  r = sh(bin("deca-eval") + positive_pair + " --compare " + baseline + " --max-drop sst.em=100");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("compared with " + baseline), std::string::npos) << r.out;
  r = sh(bin("deca-eval") + positive_pair + " --compare " + baseline + " --max-drop sst.em=1");
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("sst em fell by"), std::string::npos) << r.out;
  EXPECT_EQ(sh(bin("deca-eval") + positive_pair + " --max-drop sst.em=1").code, 2);  // no --compare
  EXPECT_EQ(sh(bin("deca-eval") + positive_pair + " --compare " + baseline + " --max-drop squad.nf1=1").code, 2);

  std::ofstream(pred + "/sst.jsonl", std::ios::app) << "{\"id\": \"999\", \"answer\": \"x\"}\n";
  r = sh(bin("deca-eval") + " --task sst --gold " + gold + "/sst.jsonl --predictions " + pred + "/sst.jsonl");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("id \"999\" is not in the gold file"), std::string::npos) << r.out;
}

// deca-data stats: one row per task and split, its example count and lengths in words.
TEST_F(Cli, StatsCountsEachSplit) {
  const auto r = sh(bin("deca-data") + " stats --data-root " + sample_ + " --tasks sst schema 2>/dev/null");
  ASSERT_EQ(r.code, 0) << r.out;
  long lines = -1;  // the header
  deca::for_each_line(sample_ + "/sst/dev_binary_sent.csv", [&](std::string_view, long) { ++lines; });
  bool found = false;
  size_t start = r.out.find('\n') + 1;
  for (size_t end; (end = r.out.find('\n', start)) != std::string::npos; start = end + 1) {
    std::istringstream row(r.out.substr(start, end - start));
    std::string task, split;
    long examples = 0;
    row >> task >> split >> examples;
    EXPECT_TRUE(task == "sst" || task == "schema") << task;
    if (task == "sst" && split == "validation") {
      found = true;
      EXPECT_EQ(examples, lines);
    }
  }
  EXPECT_TRUE(found) << r.out;
  EXPECT_EQ(sh(bin("deca-data") + " stats --data-root " + sample_ + " --tasks nosuchtask").code, 2);
}

TEST_F(Cli, TrainPrintsTheResolvedConfigWhichFeedsBack) {
  const std::string cfg = (deca::testing::source_dir() / "configs" / "quickstart.json").string();
  auto r = sh(bin("deca-train") + " --config " + cfg + " --set training.steps=7 --print-config 2>/dev/null > " +
              (dir_ / "resolved.json").string());
  ASSERT_EQ(r.code, 0) << r.out;
  r = sh(bin("deca-train") + " --config " + (dir_ / "resolved.json").string() + " --print-config 2>/dev/null");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["training"]["steps"], 7);
  r = sh(bin("deca-train") + " --config " + cfg + " --set training.stpes=7");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("training.stpes"), std::string::npos) << r.out;
  // --max-time takes seconds or a duration, into training.max_time.
  for (const auto& [given, seconds] : std::vector<std::pair<std::string, double>>{
           {"3600", 3600}, {"90m", 5400}, {"2h", 7200}, {"1h30m", 5400}, {"1:30:00", 5400}, {"45:30", 2730}}) {
    r = sh(bin("deca-train") + " --config " + cfg + " --max-time " + given + " --print-config 2>/dev/null");
    ASSERT_EQ(r.code, 0) << given << ": " << r.out;
    EXPECT_DOUBLE_EQ(nlohmann::json::parse(r.out)["training"]["max_time"].get<double>(), seconds) << given;
  }
  for (const char* bad : {"0", "-5", "2d", "1::2", "h", "1:2:3:4", "soon"}) {
    r = sh(bin("deca-train") + " --config " + cfg + " --max-time " + bad + " --print-config");
    EXPECT_EQ(r.code, 2) << bad << ": " << r.out;
    EXPECT_NE(r.out.find("expected seconds or a duration"), std::string::npos) << r.out;
  }
}

// deca-bench train builds its tokenizer from the tasks it trains, as deca-train
// does (and decaNLP its vocabulary), each task set in a file of its own;
// --vocabulary decathlon keeps the ten tasks' one.
TEST_F(Cli, BenchTrainsTheTokenizerOfTheTasksItTrains) {
  const std::string cfg = (deca::testing::source_dir() / "configs" / "quickstart.json").string();
  auto bench = [&](const std::string& args) {
    const auto r =
        sh(bin("deca-bench") + " train --config " + cfg + " --data-root " + sample_ + " --output " + dir_.string() +
           " --threads 1 --steps 1 --warmup 0 --set tokenizer.vocab_size=2000 " + args + " 2>/dev/null");
    EXPECT_EQ(r.code, 0) << r.out;
    return r.code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
  };
  const auto squad = bench("--tasks squad");
  EXPECT_EQ(squad["tokenizer"], "tokenizer.squad.model");
  EXPECT_TRUE(fs::exists(dir_ / "tokenizer.squad.model"));
  const auto ten = bench("--tasks squad --vocabulary decathlon");
  EXPECT_EQ(ten["tokenizer"], "tokenizer.model");
  // The ten tasks fill the 2,000 pieces; SQuAD's sample alone does not.
  EXPECT_EQ(ten["vocab"], 2000);
  EXPECT_LT(squad["vocab"].get<long>(), 2000);
  EXPECT_LT(squad["parameters"].get<long>(), ten["parameters"].get<long>());
  EXPECT_EQ(bench("--tasks sst squad")["tokenizer"], "tokenizer.squad+sst.model");
  const auto bad = sh(bin("deca-bench") + " train --config " + cfg + " --data-root " + sample_ + " --vocabulary squad");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.out.find("--vocabulary"), std::string::npos) << bad.out;
}

// The data root a command reads is named before anything is read: a forgotten
// --data-root outside the checkout is an error naming the default and the
// current folder, the embedded sample is flagged as made-up, and a run records
// its data root as an absolute path, so that its checkpoint finds the data from
// any folder.
TEST_F(Cli, TheDataRootIsNamedAndACheckpointFindsItsOwnFromAnyFolder) {
  const std::string in_tmp = "cd " + dir_.string() + " && ";
  auto r = sh(in_tmp + bin("deca-data") + " export --task sst --split validation 2>&1 >/dev/null");
  EXPECT_EQ(r.code, 2) << r.out;
  for (const std::string& part : std::vector<std::string>{
           "data root data/sample (relative to the current folder " + fs::canonical(dir_).string() + ")",
           "is not a folder, and it is the default data.data_root", "give --data-root DIR"})
    EXPECT_NE(r.out.find(part), std::string::npos) << part << "\n" << r.out;
  r = sh(bin("deca-data") + " export --data-root " + sample_ + " --task sst --split validation 2>&1 >/dev/null");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("deca's embedded sample, a few made-up examples per task"), std::string::npos) << r.out;

  const std::string cfg = (deca::testing::source_dir() / "configs" / "quickstart.json").string(),
                    run = (dir_ / "run").string();
  r = sh("cd " + deca::testing::source_dir().string() + " && " + bin("deca-train") + " --config " + cfg +
         " --data-root data/sample --output " + run +
         " --steps 1 --set training.val_every=0 --set training.threads=1 2>&1");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("deca's embedded sample"), std::string::npos) << r.out;
  const auto recorded = deca::load_config(fs::path(run) / "checkpoints" / "last" / "config.json").data.data_root;
  EXPECT_EQ(fs::path(recorded), fs::absolute(deca::testing::source_dir() / "data" / "sample").lexically_normal());
  r = sh(in_tmp + bin("deca-eval") + " --checkpoint " + run +
         " --tasks sst --max-examples 3 --threads 1 2>&1 >/dev/null");
  EXPECT_EQ(r.code, 0) << r.out;
}

// Which build made what: --version on every executable; the checkpoint, every
// start line of metrics.jsonl and deca-eval's reports name deca's version and
// commit; every metrics.jsonl line carries its wall-clock time.
TEST_F(Cli, VersionAndProvenanceAreRecorded) {
  const std::string expected = std::string(deca::version()) + " (commit " + deca::build_commit() + ")";
  for (const char* name : {"deca-train", "deca-eval", "deca-predict", "deca-data", "deca-bench"}) {
    const auto r = sh(bin(name) + " --version");
    EXPECT_EQ(r.code, 0) << name << ": " << r.out;
    EXPECT_EQ(r.out, std::string(name) + " " + expected + "\n");
  }
  EXPECT_NE(std::string(deca::build_commit()), "");

  const std::string cfg = (deca::testing::source_dir() / "configs" / "quickstart.json").string(),
                    run = (dir_ / "run").string();
  const double before = static_cast<double>(std::time(nullptr));
  auto r = sh(bin("deca-train") + " --config " + cfg + " --data-root " + sample_ + " --output " + run +
              " --steps 2 --set training.val_every=0 --set training.log_every=1 --set training.threads=1 2>&1");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(deca::version_line()), std::string::npos) << r.out;
  const auto state =
      nlohmann::json::parse(deca::read_file(fs::path(run) / "checkpoints" / "last" / "trainer_state.json"));
  EXPECT_EQ(state["deca"]["version"], deca::version());
  EXPECT_EQ(state["deca"]["commit"], deca::build_commit());
  long starts = 0, lines = 0;
  deca::for_each_line(fs::path(run) / "metrics.jsonl", [&](std::string_view line, long) {
    const auto j = nlohmann::json::parse(line);
    ++lines;
    ASSERT_TRUE(j.contains("time") && j["time"].is_number()) << line;
    EXPECT_GE(j["time"].get<double>(), before - 1);
    EXPECT_LE(j["time"].get<double>(), static_cast<double>(std::time(nullptr)) + 1);
    if (j["type"] == "start") {
      ++starts;
      EXPECT_EQ(j["step"], 0);
      EXPECT_EQ(j["deca_commit"], deca::build_commit());
    }
  });
  EXPECT_EQ(starts, 1);
  EXPECT_GE(lines, 3);  // the start and two training lines

  const std::string md = (dir_ / "report.md").string(), junit = (dir_ / "junit.xml").string();
  r = sh(bin("deca-eval") + " --checkpoint " + run + " --tasks sst --max-examples 2 --threads 1 --report-md " + md +
         " --junit " + junit + " 2>/dev/null");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["scored_by"]["commit"], deca::build_commit());
  EXPECT_EQ(report["checkpoint"]["step"], 2);
  EXPECT_EQ(report["checkpoint"]["trained_by"]["version"], deca::version());
  EXPECT_NE(deca::read_file(md).find("Scored by " + deca::version_line() + "; checkpoint "), std::string::npos)
      << deca::read_file(md);
  EXPECT_NE(deca::read_file(junit).find("<property name=\"deca_commit\" value=\"" + std::string(deca::build_commit())),
            std::string::npos);
}

// What a user mistypes is a usage error (exit 2) that names it and, a typo
// away from a known name, offers it; tools' chatter and repeated warnings stay out.
TEST_F(Cli, MistakesAreNamedWithTheNearestNameAndNoiseStaysOut) {
  const std::string cfg = (deca::testing::source_dir() / "configs" / "quickstart.json").string();
  auto expect_usage_error = [&](const std::string& command, const std::string& part) {
    const auto r = sh(command + " 2>&1");
    EXPECT_EQ(r.code, 2) << command << "\n" << r.out;
    EXPECT_NE(r.out.find(part), std::string::npos) << command << "\n" << r.out;
  };
  expect_usage_error(bin("deca-train") + " --config " + (dir_ / "nosuch.json").string(), "nosuch.json");
  expect_usage_error(bin("deca-data") + " tokenizer --config nosuch.json --output x.model", "nosuch.json");
  expect_usage_error(bin("deca-train") + " --config " + cfg + " --stesp 3", "--stesp: did you mean --steps?");
  expect_usage_error(bin("deca-data") + " export --data-root " + sample_ + " --task sst --spilt test",
                     "--spilt: did you mean --split?");
  expect_usage_error(bin("deca-train") + " --config " + cfg + " --set training.stpes=3 --print-config",
                     "did you mean \"training.steps\"?");
  expect_usage_error(bin("deca-train") + " --config " + cfg + " --set trainng.steps=3 --print-config",
                     "(did you mean training?)");
  expect_usage_error(bin("deca-data") + " export --data-root " + sample_ + " --task sts", "did you mean sst?");
  // deca-eval's --task pairs with --gold/--predictions, --tasks with --checkpoint.
  expect_usage_error(bin("deca-eval") + " --checkpoint " + dir_.string() + " --task sst", "give --tasks");
  expect_usage_error(bin("deca-eval") + " --tasks sst --gold g.jsonl --predictions p.jsonl",
                     "give one --task per pair");

  // A folder where a file belongs: named, no crash (SentencePiece aborted on it).
  fs::create_directories(dir_ / "tokdir");
  auto folder = sh("echo hi | " + bin("deca-data") + " encode --tokenizer " + (dir_ / "tokdir").string() + " 2>&1");
  EXPECT_EQ(folder.code, 1) << folder.out;
  EXPECT_NE(folder.out.find((dir_ / "tokdir").string() + " is a folder, not a file"), std::string::npos) << folder.out;

  // SentencePiece's INFO lines (its whole command line) are not shown.
  auto r = sh(bin("deca-data") + " tokenizer --config " + cfg + " --data-root " + sample_ +
              " --set tokenizer.vocab_size=600 --output " + (dir_ / "tok.model").string() + " 2>&1");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.find("LOG(INFO)"), std::string::npos) << r.out;
  // A schema file cut short is reported once, not once per split read.
  fs::create_directories(dir_ / "cut" / "schema");
  std::string schema = deca::read_file(fs::path(sample_) / "schema" / "schema.txt");
  while (!schema.empty() && schema.back() == '\n') schema.pop_back();
  deca::write_file_atomic(dir_ / "cut" / "schema" / "schema.txt", schema + "\n");
  r = sh(bin("deca-data") + " stats --data-root " + (dir_ / "cut").string() + " --tasks schema 2>&1");
  ASSERT_EQ(r.code, 0) << r.out;
  size_t warnings = 0;
  for (size_t at = r.out.find("no blank line after it"); at != std::string::npos;
       at = r.out.find("no blank line after it", at + 1))
    ++warnings;
  EXPECT_EQ(warnings, 1u) << r.out;
}

// Ctrl-C (SIGINT) and SIGTERM: the step ends, a checkpoint is saved, exit 130.
TEST_F(Cli, TrainStopsCleanlyOnSigintAndSigterm) {
  const std::string cfg = (deca::testing::source_dir() / "configs" / "quickstart.json").string();
  for (const std::string signal : {"INT", "TERM"}) {
    const std::string run = (dir_ / ("run-" + signal)).string();
    // Long enough to be interrupted; the signal after the first steps.
    const auto r =
        sh("(" + bin("deca-train") + " --config " + cfg + " --data-root " + sample_ + " --output " + run +
           " --steps 100000 --set training.val_every=0 --set training.log_every=1 --set training.threads=1 & pid=$!; "
           "for i in $(seq 1 120); do sleep 0.5; grep -q '\"type\":\"train\"' " +
           run + "/metrics.jsonl 2>/dev/null && break; done; kill -" + signal + " $pid; wait $pid)");
    EXPECT_EQ(r.code, 130) << signal << ": " << r.out;
    EXPECT_NE(r.out.find("stopped by signal"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("resume with --resume"), std::string::npos) << r.out;
    EXPECT_TRUE(fs::exists(fs::path(run) / "checkpoints" / "last" / "model.safetensors")) << signal;
  }
}

}  // namespace
