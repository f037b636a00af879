// The executables under faults: a full disk, stop signals, an output that is
// the input, interactive input, bad option values, and scores that would be
// wrong. Each case checks the exit code and that the message says what and where.
#include <algorithm>
#include <random>
#include <set>

#include "deca/core/io.h"
#include "test_support.h"

namespace fs = std::filesystem;
using deca::testing::sh;

namespace {

class CliFaults : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // One small checkpoint for the prediction and evaluation cases.
    shared_ = deca::testing::unique_temp_path("deca-faults");
    const auto r = sh(bin("deca-train") + " --config " + quickstart() + " --data-root " + sample() + " --output " +
                      (shared_ / "run").string() + " --steps 2 " + kSmall + " 2>&1");
    ASSERT_EQ(r.code, 0) << r.out;
    deca::write_file_atomic(shared_ / "q.jsonl",
                            R"({"context": "a good film", "question": "Is this review negative or positive?"})"
                            "\n");
  }
  static void TearDownTestSuite() { fs::remove_all(shared_); }

  static std::string bin(const char* name) { return (fs::path(DECA_BIN_DIR) / name).string(); }
  static std::string sample() { return (deca::testing::source_dir() / "data" / "sample").string(); }
  static std::string quickstart() { return (deca::testing::source_dir() / "configs" / "quickstart.json").string(); }
  static std::string run() { return (shared_ / "run").string(); }
  static std::string questions() { return (shared_ / "q.jsonl").string(); }
  static constexpr const char* kSmall =
      "--set training.val_every=0 --set training.threads=1 --set model.dimension=16 --set model.embedding_dim=16 "
      "--set model.transformer_hidden=16";
  // A training command that runs long enough to be interrupted, started in the background as $pid.
  std::string long_training() const {
    return bin("deca-train") + " --config " + quickstart() + " --data-root " + sample() + " --output " +
           (dir_ / "run").string() + " --steps 100000 --set training.log_every=1 " + kSmall + " & pid=$!; " +
           "for i in $(seq 1 200); do sleep 0.2; grep -q '\"type\":\"train\"' " + (dir_ / "run").string() +
           "/metrics.jsonl 2>/dev/null && break; done; ";
  }
  static inline fs::path shared_;
  deca::testing::TempDir tmp_{"deca-faults-case"};
  const fs::path& dir_ = tmp_.path();
};

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_F(CliFaults, SighupStopsTrainingLikeSigterm) {
  const auto r = sh("(" + long_training() + "kill -HUP $pid; wait $pid)");
  EXPECT_EQ(r.code, 130) << r.out;
  EXPECT_TRUE(has(r.out, "stopped by signal 1")) << r.out;
  EXPECT_TRUE(fs::exists(dir_ / "run" / "checkpoints" / "last" / "model.safetensors"));
}

TEST_F(CliFaults, ASecondSignalStopsAtOnce) {
  // Two different signals: the kernel does not merge them as it merges two of one kind.
  const auto r = sh("(" + long_training() + "kill -INT $pid; kill -TERM $pid; wait $pid)");
  EXPECT_EQ(r.code, 130) << r.out;
  EXPECT_TRUE(has(r.out, "second stop signal")) << r.out;
  // Whatever was saved is complete: no half-written checkpoint is left as `last`.
  if (fs::exists(dir_ / "run" / "checkpoints" / "last")) {
    EXPECT_EQ(
        sh("cd " + (dir_ / "run" / "checkpoints" / "last").string() + " && sha1sum -c --quiet checksums.sha1").code, 0);
  }
}

// A checkpoint that does not fit: exit 1 with the reason and the path, `last`
// still a complete checkpoint, no partial folder left. Needs a small tmpfs
// (a private mount namespace; root or user namespaces).
TEST_F(CliFaults, AFullDiskDuringASaveFailsCleanly) {
  if (sh("unshare -m true").code != 0) GTEST_SKIP() << "cannot create a mount namespace for a small tmpfs here";
  const std::string disk = (dir_ / "disk").string();
  fs::create_directories(disk);
  // Each checkpoint of this model takes about 0.9 MB: the first fits, the second does not.
  const auto r = sh("unshare -m sh -c 'mount -t tmpfs -o size=1400k tmpfs " + disk + " || exit 77; " +
                    bin("deca-train") + " --config " + quickstart() + " --data-root " + sample() + " --output " + disk +
                    "/run --steps 6 --set training.save_every=2 --set training.keep_last=5 " + kSmall +
                    "; echo \"exit=$?\"; echo \"last=$(readlink " + disk + "/run/checkpoints/last)\"; cd " + disk +
                    "/run/checkpoints/last && sha1sum -c --quiet checksums.sha1 && echo last-is-complete; ls -a " +
                    disk + "/run/checkpoints'");
  if (r.code == 77) GTEST_SKIP() << "cannot mount a tmpfs here: " << r.out;
  EXPECT_TRUE(has(r.out, "exit=1")) << r.out;
  EXPECT_TRUE(has(r.out, "No space left on device")) << r.out;
  EXPECT_TRUE(has(r.out, "cannot save checkpoint")) << r.out;
  EXPECT_TRUE(has(r.out, "last=step-00000002")) << r.out;
  EXPECT_TRUE(has(r.out, "last-is-complete")) << r.out;
  EXPECT_FALSE(has(r.out, "\n.tmp-")) << r.out;  // the listing of checkpoints/
}

TEST_F(CliFaults, OutputsOnAFullDiskAreErrors) {
  auto r = sh(bin("deca-predict") + " --checkpoint " + run() + " --input " + questions() + " --output /dev/full");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(has(r.out, "cannot write /dev/full: No space left on device")) << r.out;
  r = sh(bin("deca-data") + " export --data-root " + sample() + " --task sst --split test > /dev/full");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(has(r.out, "No space left on device")) << r.out;
}

// Every input line gets one output line, in input order, from stdin too: an
// answer (with its score and n-best list when asked) or the line's error.
TEST_F(CliFaults, PredictAnswersEveryLineInOrder) {
  const std::string input = (dir_ / "in.jsonl").string();
  deca::write_file_atomic(input,
                          R"({"id": "a", "context": "a good film", "question": "Is this review negative or positive?"})"
                          "\n"
                          "not json\n"
                          R"({"context": "a bad film", "question": "Is this review negative or positive?"})"
                          "\n"
                          "\n"
                          R"({"id": 7, "context": "a film"})"
                          "\n"
                          R"({"id": "last", "context": "the end", "question": "What is the summary?"})"
                          "\n");
  const auto r = sh("cat " + input + " | " + bin("deca-predict") + " --checkpoint " + run() +
                    " --input - --beam 6 --nbest 4 --scores 2>" + (dir_ / "err.txt").string());
  EXPECT_EQ(r.code, 1) << r.out;  // some lines could not be answered
  std::vector<nlohmann::json> lines;
  size_t start = 0;
  for (size_t end; (end = r.out.find('\n', start)) != std::string::npos; start = end + 1)
    lines.push_back(nlohmann::json::parse(r.out.substr(start, end - start)));
  ASSERT_EQ(lines.size(), 6u) << r.out;
  const std::vector<std::string> ids = {"a", "1", "2", "3", "7", "last"};
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(lines[i]["id"], ids[i]) << i;
  for (size_t i : {0, 2, 5}) {
    ASSERT_TRUE(lines[i].contains("answer")) << lines[i];
    const auto& nbest = lines[i]["nbest"];
    ASSERT_GE(nbest.size(), 1u) << lines[i];
    ASSERT_LE(nbest.size(), 4u) << lines[i];
    EXPECT_EQ(nbest[0]["answer"], lines[i]["answer"]);
    EXPECT_DOUBLE_EQ(nbest[0]["score"].get<double>(), lines[i]["score"].get<double>());
    std::set<std::string> distinct;
    for (size_t k = 0; k < nbest.size(); ++k) {
      EXPECT_TRUE(distinct.insert(nbest[k]["answer"].get<std::string>()).second) << "repeated answer: " << lines[i];
      // Ranked by the length-normalised score (the raw log-probability may rise).
      if (k > 0) {
        EXPECT_GE(nbest[k - 1]["normalized"].get<double>(), nbest[k]["normalized"].get<double>());
      }
    }
  }
  EXPECT_EQ(lines[1]["error"], "line 2: invalid JSON");
  EXPECT_EQ(lines[3]["error"], "line 4: empty line");
  EXPECT_EQ(lines[4]["error"], "line 5: expected string fields \"context\" and \"question\"");
  const std::string err = deca::read_file(dir_ / "err.txt");
  EXPECT_TRUE(has(err, "line 2: invalid JSON")) << err;
  EXPECT_TRUE(has(err, "6 lines")) << err;
  EXPECT_TRUE(has(err, "3 failed")) << err;
}

// --resume continues a run from its last checkpoint, from the command line.
TEST_F(CliFaults, ResumeContinuesARunFromTheCommandLine) {
  const std::string out = (dir_ / "run").string();
  const std::string train = bin("deca-train") + " --config " + quickstart() + " --data-root " + sample() +
                            " --output " + out + " " + kSmall + " --set training.log_every=1";
  auto r = sh(train + " --steps 2");
  ASSERT_EQ(r.code, 0) << r.out;
  r = sh(train + " --steps 3");
  EXPECT_EQ(r.code, 2) << r.out;  // a new run over the old one is refused
  EXPECT_TRUE(has(r.out, "--resume")) << r.out;
  r = sh(train + " --steps 3 --resume");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(has(r.out, "at step 2")) << r.out;
  std::vector<long> steps;
  deca::for_each_line(dir_ / "run" / "metrics.jsonl", [&](std::string_view line, long) {
    const auto j = nlohmann::json::parse(line);
    if (j["type"] == "train" && (steps.empty() || steps.back() != j["step"])) steps.push_back(j["step"]);
  });
  EXPECT_EQ(steps, (std::vector<long>{1, 2, 3}));
  EXPECT_TRUE(fs::exists(dir_ / "run" / "checkpoints" / "step-00000003" / "model.safetensors"));
}

// deca-eval on a run folder uses its best checkpoint (else its last); on a
// checkpoint folder, that one.
TEST_F(CliFaults, EvalTakesARunFolderOrOneCheckpoint) {
  const std::string out = (dir_ / "run").string();
  auto r = sh(
      bin("deca-train") + " --config " + quickstart() + " --data-root " + sample() + " --output " + out + " " + kSmall +
      " --steps 2 --set training.val_every=1 --set training.val_tasks='[\"sst\"]' --set training.best_metric=sst.em");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto best = fs::read_symlink(dir_ / "run" / "checkpoints" / "best").string();
  r = sh(bin("deca-eval") + " --checkpoint " + out + " --tasks sst --data-root " + sample() + " --report-json " +
         (dir_ / "a.json").string() + " 2>&1 >/dev/null");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(has(r.out, "(the best checkpoint of run")) << r.out;
  EXPECT_TRUE(has(r.out, best)) << r.out;
  r = sh(bin("deca-eval") + " --checkpoint " + (dir_ / "run" / "checkpoints" / best).string() +
         " --tasks sst --data-root " + sample() + " --report-json " + (dir_ / "b.json").string() + " 2>&1 >/dev/null");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto a = deca::testing::load_json(dir_ / "a.json"), b = deca::testing::load_json(dir_ / "b.json");
  EXPECT_EQ(a["tasks"], b["tasks"]);
  EXPECT_EQ(a["tasks"].size(), 1u);
}

TEST_F(CliFaults, PredictNeverOverwritesItsInput) {
  const std::string input = (dir_ / "in.jsonl").string();
  fs::copy_file(questions(), input);
  fs::create_symlink(input, dir_ / "link.jsonl");
  for (const std::string& output : {input, (dir_ / "link.jsonl").string()}) {
    const auto r = sh(bin("deca-predict") + " --checkpoint " + run() + " --input " + input + " --output " + output);
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_TRUE(has(r.out, "is the input file")) << r.out;
    EXPECT_EQ(deca::read_file(input), deca::read_file(questions()));
  }
  // The input given as standard input, redirected from the output file.
  const auto r =
      sh(bin("deca-predict") + " --checkpoint " + run() + " --input - --output " + input + " < " + input + " 2>&1");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_TRUE(has(r.out, "is the input file (standard input)")) << r.out;
  EXPECT_EQ(deca::read_file(input), deca::read_file(questions()));
}

// Every LibTorch executable uses the CPUs this process may use, says how many
// and why, and takes --threads: OMP_NUM_THREADS wins, then the affinity mask
// (taskset) and a container's quota (a 2-CPU container on a 64-core host
// started 64 threads).
TEST_F(CliFaults, ThreadsFitTheCpusTheProcessMayUse) {
  const std::string eval = bin("deca-eval") + " --checkpoint " + run() + " --tasks sst --data-root " + sample();
  auto r = sh("OMP_NUM_THREADS=1 " + eval + " 2>&1 >/dev/null");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(has(r.out, "1 thread (OMP_NUM_THREADS=1)")) << r.out;
  r = sh(eval + " --threads 2 2>&1 >/dev/null");
  EXPECT_TRUE(has(r.out, "2 threads (as set)")) << r.out;
  r = sh("env -u OMP_NUM_THREADS taskset -c 0 " + bin("deca-predict") + " --checkpoint " + run() + " --input " +
         questions() + " --output /dev/null 2>&1");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(has(r.out, "1 thread (")) << r.out;
  r = sh("OMP_NUM_THREADS=1 " + bin("deca-train") + " --config " + quickstart() + " --data-root " + sample() +
         " --output " + (dir_ / "run").string() + " --steps 1 " + kSmall + " --threads 1 2>&1");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(has(r.out, "1 thread (as set)")) << r.out;
}

// An evaluation that scores nothing (no task has the split) fails, saying why.
TEST_F(CliFaults, AnEvaluationThatScoresNothingFails) {
  const auto r = sh(bin("deca-eval") + " --checkpoint " + run() + " --tasks squad --split test --data-root " +
                    sample() + " 2>&1 >/dev/null");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_TRUE(has(r.out, "nothing to score: no task of squad has a test split")) << r.out;
}

// Reports go where the path leads: a link's target is updated (the link stays
// a link), a device is written in place.
TEST_F(CliFaults, ReportsFollowLinksAndWriteDevicesInPlace) {
  fs::create_directories(dir_ / "reports");
  deca::write_file_atomic(dir_ / "reports" / "step-2.md", "old\n");
  fs::create_symlink("reports/step-2.md", dir_ / "latest.md");
  const auto r = sh(bin("deca-eval") + " --checkpoint " + run() + " --tasks sst --data-root " + sample() +
                    " --report-md " + (dir_ / "latest.md").string() + " --junit /dev/stdout 2>/dev/null");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(fs::is_symlink(dir_ / "latest.md"));
  EXPECT_TRUE(has(deca::read_file(dir_ / "reports" / "step-2.md"), "sst"))
      << deca::read_file(dir_ / "reports" / "step-2.md");
  EXPECT_TRUE(has(r.out, "<testsuite")) << r.out;
  EXPECT_TRUE(fs::is_symlink("/dev/stdout") || fs::is_character_file("/dev/stdout"));
}

// One line in, one answer out: the answer comes while the input is still open.
TEST_F(CliFaults, PredictAnswersAsLinesArrive) {
  const std::string fifo = (dir_ / "in").string(), out = (dir_ / "out.jsonl").string();
  const auto r = sh("mkfifo " + fifo + " && (" + bin("deca-predict") + " --checkpoint " + run() + " --input - < " +
                    fifo + " > " + out + " 2>/dev/null & pid=$!; exec 3>" + fifo + "; cat " + questions() +
                    " >&3; for i in $(seq 1 300); do [ -s " + out + " ] && break; sleep 0.1; done; " +
                    "echo \"answered-while-open=$(wc -l < " + out + ")\"; cat " + questions() +
                    " >&3; exec 3>&-; wait $pid; echo \"exit=$?\"; echo \"total=$(wc -l < " + out + ")\")");
  EXPECT_TRUE(has(r.out, "answered-while-open=1")) << r.out;
  EXPECT_TRUE(has(r.out, "exit=0")) << r.out;
  EXPECT_TRUE(has(r.out, "total=2")) << r.out;
}

TEST_F(CliFaults, BadOptionValuesAreUsageErrors) {
  const std::string predict = bin("deca-predict") + " --checkpoint " + run() + " --input " + questions() + " ";
  for (const char* bad : {"--beam 0", "--beam 100000", "--nbest 0", "--length-penalty nan", "--batch-tokens -1",
                          "--max-length 0", "--beam 2 --nbest 3", "--output-precision fp16"}) {
    const auto r = sh(predict + std::string(bad));
    EXPECT_EQ(r.code, 2) << bad << ": " << r.out;
  }
  auto r = sh(bin("deca-train") + " --config " + quickstart() + " --steps -1 --print-config");
  EXPECT_EQ(r.code, 2) << r.out;
  r = sh(bin("deca-train") + " --config " + quickstart() + " --set model.rnn_layers=0 --output " +
         (dir_ / "x").string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_TRUE(has(r.out, "\"model.rnn_layers\": must be >= 1")) << r.out;
  EXPECT_FALSE(fs::exists(dir_ / "x" / "config.json"));
}

// --shard I/N: N jobs' outputs, concatenated in shard order, are the unsharded
// output, byte for byte (ids included), for an input file and for --task.
TEST_F(CliFaults, ShardsConcatenateToTheWholeOutput) {
  const std::string input = (dir_ / "sst.jsonl").string();
  ASSERT_EQ(sh(bin("deca-data") + " export --data-root " + sample() + " --task sst --split validation > " + input).code,
            0);
  const std::string predict = bin("deca-predict") + " --checkpoint " + run() + " --threads 1 ";
  for (const std::string source : {"--input " + input, "--task sst --data-root " + sample()}) {
    SCOPED_TRACE(source);
    const auto whole = sh(predict + source + " 2>/dev/null");
    ASSERT_EQ(whole.code, 0) << whole.out;
    ASSERT_GE(std::count(whole.out.begin(), whole.out.end(), '\n'), 4) << whole.out;
    std::string joined;
    for (int i = 0; i < 3; ++i) {
      const auto part = sh(predict + source + " --shard " + std::to_string(i) + "/3 2>/dev/null");
      ASSERT_EQ(part.code, 0) << part.out;
      EXPECT_NE(part.out, whole.out);
      joined += part.out;
    }
    EXPECT_EQ(joined, whole.out);
  }
  for (const char* bad : {"3/3", "1/0", "-1/2", "a/b", "1/2x", "2"}) {
    const auto r = sh(predict + "--input " + input + " --shard " + bad);
    EXPECT_EQ(r.code, 2) << bad << ": " << r.out;
    EXPECT_TRUE(has(r.out, "--shard expects I/N")) << r.out;
  }
  const auto r = sh(predict + "--input - --shard 0/2 < " + input);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_TRUE(has(r.out, "not standard input")) << r.out;
}

TEST_F(CliFaults, EvalRefusesScoresThatWouldBeWrong) {
  const std::string gold = (dir_ / "sst.gold.jsonl").string(), pred = (dir_ / "sst.pred.jsonl").string();
  ASSERT_EQ(sh(bin("deca-data") + " export --data-root " + sample() + " --task sst --split validation > " + gold).code,
            0);
  std::string preds;
  deca::for_each_line(gold, [&](std::string_view line, long) {
    preds += nlohmann::json{{"id", nlohmann::json::parse(line)["id"]}, {"answer", "positive"}}.dump() + "\n";
  });
  deca::write_file_atomic(pred, preds);
  const std::string pair = " --gold " + gold + " --predictions " + pred;
  auto r = sh(bin("deca-eval") + " --task sst" + pair + " --task sst" + pair);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_TRUE(has(r.out, "listed twice")) << r.out;
  r = sh(bin("deca-eval") + " --task sts" + pair);  // misspelt: the gold rows say sst
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_TRUE(has(r.out, "--task sts does not match")) << r.out;
  r = sh(bin("deca-eval") + " --task sst" + pair + " --fail-under sst.em=nan");
  EXPECT_EQ(r.code, 2) << r.out;
  r = sh(bin("deca-eval") + " --task sst" + pair + " --fail-under sst.accuracy=50");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_TRUE(has(r.out, "has no metric accuracy")) << r.out;
  // With a checkpoint, bad names and thresholds fail before any decoding.
  r = sh(bin("deca-eval") + " --checkpoint " + run() + " --data-root " + sample() + " --tasks sst sst");
  EXPECT_EQ(r.code, 2) << r.out;
  r = sh(bin("deca-eval") + " --checkpoint " + run() + " --data-root " + sample() +
         " --tasks sst --fail-under squad.nf1=1");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_FALSE(has(r.out, "examples decoded")) << r.out;
}

// data.subsample limits what a run trains on, never what is predicted or
// scored: deca-predict --task and deca-eval read the whole split.
TEST_F(CliFaults, PredictionAndEvaluationReadWholeSplits) {
  const std::string sub = (dir_ / "sub").string();
  auto r = sh(bin("deca-train") + " --config " + quickstart() + " --data-root " + sample() + " --output " + sub +
              " --steps 1 --set data.subsample=2 " + kSmall);
  ASSERT_EQ(r.code, 0) << r.out;
  long lines = -1;  // the header
  deca::for_each_line(sample() + "/sst/dev_binary_sent.csv", [&](std::string_view, long) { ++lines; });
  const std::string out = (dir_ / "sst.jsonl").string();
  r = sh(bin("deca-predict") + " --checkpoint " + sub + " --task sst --split validation --data-root " + sample() +
         " --output " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  long predicted = 0;
  deca::for_each_line(out, [&](std::string_view, long) { ++predicted; });
  EXPECT_EQ(predicted, lines);
  r = sh(bin("deca-eval") + " --checkpoint " + sub + " --tasks sst --data-root " + sample() + " --output " +
         (dir_ / "preds").string());
  ASSERT_EQ(r.code, 0) << r.out;
  long scored = 0;
  deca::for_each_line(dir_ / "preds" / "sst.jsonl", [&](std::string_view, long) { ++scored; });
  EXPECT_EQ(scored, lines);
}

TEST_F(CliFaults, EvalSaysWhichCheckpointItUses) {
  const fs::path copy = dir_ / "run";
  fs::copy(run(), copy, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  fs::create_directory_symlink("step-00009999", copy / "checkpoints" / "best");  // dangles
  const auto r = sh(bin("deca-eval") + " --checkpoint " + copy.string() + " --data-root " + sample() +
                    " --tasks schema 2>&1 >/dev/null");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(has(r.out, "best points at step-00009999, which is not a checkpoint")) << r.out;
  EXPECT_TRUE(has(r.out, "step-00000002 (the last checkpoint of run")) << r.out;
}

// deca-predict on a run folder that is training, saving every step and keeping
// one checkpoint: the checkpoint chosen may be pruned while it is read, and the
// run's newest is taken instead (3 of 15 such calls used to fail).
TEST_F(CliFaults, PredictOnARunThatPrunesWhileItReads) {
  const std::string run = (dir_ / "busy").string();
  const auto r =
      sh(bin("deca-train") + " --config " + quickstart() + " --data-root " + sample() + " --output " + run +
         " --steps 400 --set training.save_every=1 --set training.keep_last=1 --set training.log_every=100 " + kSmall +
         " > " + run +
         ".log 2>&1 & pid=$!; "
         "while [ ! -e " +
         run +
         "/checkpoints/last ]; do sleep 0.1; done; failed=0; "
         "for i in $(seq 1 15); do echo '{\"context\": \"a good film\", \"question\": \"Is it good?\"}' | " +
         bin("deca-predict") + " --checkpoint " + run + " --input - --threads 1 >/dev/null 2>" + run +
         ".err || { failed=$((failed+1)); cat " + run + ".err; }; done; wait $pid; echo failed $failed");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("failed 0"), std::string::npos) << r.out;
}

}  // namespace
