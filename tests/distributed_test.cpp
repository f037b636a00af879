// Data-parallel training from the outside: several deca-train processes on
// 127.0.0.1 (Gloo), launched with torchrun's environment variables, against
// one process. The runs are small (the quickstart MQAN, 20 steps, one thread
// per process) and without dropout, so that they can be compared step by step.
#include <chrono>
#include <fstream>
#include <map>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/train/data_parallel.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

using deca::testing::sh;

class Distributed : public ::testing::Test {
 protected:
  // One tokenizer for every run, trained once (each run would train the same
  // one; this saves the time).
  static void SetUpTestSuite() {
    tokenizer_dir_ = deca::testing::unique_temp_path("deca-dist-tok");
    const auto r = sh(bin() + " --config " + config() + " --data-root " + sample() + " --output " +
                      tokenizer_dir_.string() + " --steps 0 --set training.val_every=0");
    ASSERT_EQ(r.code, 0) << r.out;
  }
  static void TearDownTestSuite() { fs::remove_all(tokenizer_dir_); }

  static std::string bin() { return (fs::path(DECA_BIN_DIR) / "deca-train").string(); }
  static std::string config() { return (deca::testing::source_dir() / "configs" / "quickstart.json").string(); }
  static std::string sample() { return (deca::testing::source_dir() / "data" / "sample").string(); }

  // Deterministic training: no dropout, one thread, a learning rate small
  // enough that Adam's first steps (about lr x sign(gradient) per weight) do
  // not turn the rounding of near-zero gradients into visible differences.
  std::string args(const fs::path& run, const std::string& extra = "") const {
    return bin() + " --config " + config() + " --data-root " + sample() + " --output " + run.string() +
           " --set tokenizer.model=" + (tokenizer_dir_ / "tokenizer.model").string() +
           " --set training.threads=1 --set training.log_every=1 --set training.val_every=0 --set training.lr=0.00003"
           " --set model.dropout=0 --set model.coattention_dropout=0 --set model.feedforward_dropout=0 " +
           extra;
  }

  // Shell lines that start `n` ranks in the background as torchrun would
  // (RANK, WORLD_SIZE, LOCAL_RANK, ...), rank r logging to <run>.rank<r>.log,
  // its process id in $p<r>.
  std::string start(int n, const fs::path& run, const std::string& extra) const {
    std::string s;
    for (int r = 0; r < n; ++r)
      s += "RANK=" + std::to_string(r) + " WORLD_SIZE=" + std::to_string(n) + " LOCAL_RANK=" + std::to_string(r) +
           " LOCAL_WORLD_SIZE=" + std::to_string(n) + " MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port_) +
           " " + args(run, extra) + " > " + run.string() + ".rank" + std::to_string(r) + ".log 2>&1 & p" +
           std::to_string(r) + "=$!; ";
    return s;
  }
  // Runs `n` ranks to the end; their exit codes, "0 0" when all went well.
  std::string run_ranks(int n, const fs::path& run, const std::string& extra = "") const {
    std::string wait;
    for (int r = 0; r < n; ++r) wait += "wait $p" + std::to_string(r) + "; c" + std::to_string(r) + "=$?; ";
    std::string codes = "echo";
    for (int r = 0; r < n; ++r) codes += " $c" + std::to_string(r);
    return last_line(sh(start(n, run, extra) + wait + codes).out);
  }
  static std::string last_line(std::string s) {
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s.substr(s.rfind('\n') == std::string::npos ? 0 : s.rfind('\n') + 1);
  }
  std::string log_of(const fs::path& run, int rank) const {
    return deca::read_file(run.string() + ".rank" + std::to_string(rank) + ".log");
  }

  // Lines of metrics.jsonl of one type, by step.
  static std::map<long, nlohmann::json> lines(const fs::path& run, const std::string& type) {
    std::map<long, nlohmann::json> out;
    std::ifstream in(run / "metrics.jsonl");
    for (std::string line; std::getline(in, line);)
      if (auto j = nlohmann::json::parse(line); j["type"] == type) out[j["step"].get<long>()] = j;
    return out;
  }
  // The validation lines, by task ("decascore" for the decaScore line).
  static std::map<std::string, nlohmann::json> validation_by_task(const fs::path& run) {
    std::map<std::string, nlohmann::json> out;
    std::ifstream in(run / "metrics.jsonl");
    for (std::string line; std::getline(in, line);)
      if (auto j = nlohmann::json::parse(line); j["type"] == "validation") out[j["task"]] = j;
    return out;
  }
  static std::vector<double> losses(const fs::path& run) {
    std::vector<double> out;
    for (const auto& [step, j] : lines(run, "train")) out.push_back(j["loss"].get<double>());
    return out;
  }

  static inline fs::path tokenizer_dir_;
  deca::testing::TempDir tmp_{"deca-dist"};
  const fs::path& dir_ = tmp_.path();
  const int port_ = deca::testing::free_port();
};

// The update of two ranks, each on half of every batch, is the update of one
// process on the whole batch: the same losses, step by step.
// A rank's validation answers travel to rank 0 as bytes: any answer (empty,
// with a newline, non-ASCII) arrives exactly at its row; bytes cut short or
// naming a row beyond the split are an error, not a wrong answer.
TEST(DataParallel, AnswersTravelExactlyAndDamageIsAnError) {
  deca::SplitPredictions p;
  p.answers = {"", "first\nline", "", "\u00fcn\u00efcode \u2603", "x"};
  p.rows = {1, 3, 0};
  const std::string bytes = deca::pack_answers(p);
  std::vector<std::string> answers(5, "old");
  deca::unpack_answers(bytes, answers);
  EXPECT_EQ(answers, (std::vector<std::string>{"", "first\nline", "old", "\u00fcn\u00efcode \u2603", "old"}));
  EXPECT_THROW(deca::unpack_answers(bytes.substr(0, bytes.size() - 3), answers), deca::Error);
  EXPECT_THROW(deca::unpack_answers(bytes.substr(0, 6), answers), deca::Error);
  std::vector<std::string> fewer(2);
  EXPECT_THROW(deca::unpack_answers(bytes, fewer), deca::Error);
}

TEST_F(Distributed, TwoRanksTrainAsOneProcessOnTheWholeBatches) {
  const auto one = sh(args(dir_ / "one", "--steps 20"));
  ASSERT_EQ(one.code, 0) << one.out;
  ASSERT_EQ(run_ranks(2, dir_ / "two", "--steps 20"), "0 0") << log_of(dir_ / "two", 0) << log_of(dir_ / "two", 1);
  const auto a = losses(dir_ / "one"), b = losses(dir_ / "two");
  ASSERT_EQ(a.size(), 20u);
  ASSERT_EQ(b.size(), 20u);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(b[i], a[i], 1e-5 * a[i]) << "step " << i + 1;
  EXPECT_FALSE(lines(dir_ / "one", "train")[7].contains("allreduce_ms"));
  EXPECT_TRUE(lines(dir_ / "two", "train")[7].contains("allreduce_ms"));
  // Rank 0 alone writes; its checkpoint holds both ranks' random states.
  const auto state = deca::testing::load_json(dir_ / "two" / "checkpoints" / "last" / "trainer_state.json");
  EXPECT_EQ(state["world_size"], 2);
  EXPECT_EQ(log_of(dir_ / "two", 1).find("saved checkpoint"), std::string::npos) << log_of(dir_ / "two", 1);
  EXPECT_NE(log_of(dir_ / "two", 0).find("2 processes (gloo)"), std::string::npos) << log_of(dir_ / "two", 0);
}

// SIGTERM to one rank stops both after the same step with one checkpoint;
// --resume continues exactly as the uninterrupted run.
TEST_F(Distributed, StopSignalOnOneRankStopsAllAndResumeContinuesExactly) {
  ASSERT_EQ(run_ranks(2, dir_ / "whole", "--steps 30"), "0 0") << log_of(dir_ / "whole", 0);
  const fs::path run = dir_ / "stopped";
  const auto r = sh(start(2, run, "--steps 30") + "for i in $(seq 1 200); do sleep 0.05; grep -q '\"step\":3,' " +
                    (run / "metrics.jsonl").string() +
                    " 2>/dev/null && break; done; kill -TERM $p1; wait $p0; c0=$?; "
                    "wait $p1; c1=$?; echo $c0 $c1");
  ASSERT_EQ(last_line(r.out), "130 130") << log_of(run, 0) << log_of(run, 1);
  const auto state = deca::testing::load_json(run / "checkpoints" / "last" / "trainer_state.json");
  const long stopped_at = state["step"].get<long>();
  EXPECT_GE(stopped_at, 3);
  EXPECT_LT(stopped_at, 30) << "the signal came too late to test a resume";
  EXPECT_NE(log_of(run, 0).find("stopped by signal"), std::string::npos) << log_of(run, 0);
  ASSERT_EQ(run_ranks(2, run, "--steps 30 --resume"), "0 0") << log_of(run, 0) << log_of(run, 1);
  const auto a = losses(dir_ / "whole"), b = losses(run);
  ASSERT_EQ(b.size(), 30u);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(b[i], a[i], 1e-7 * a[i]) << "step " << i + 1;
}

// Validation shared by two ranks scores as one process does: the same
// weights (a checkpoint of one process, resumed for one step with a learning
// rate too small to change a float32 weight) give the same metrics and decaScore.
TEST_F(Distributed, ShardedValidationScoresAsOneProcess) {
  const fs::path base = dir_ / "base";
  const auto trained = sh(args(base, "--steps 60 --set training.lr=0.003"));
  ASSERT_EQ(trained.code, 0) << trained.out;
  ASSERT_EQ(sh("cp -r " + base.string() + " " + (dir_ / "one").string() + " && cp -r " + base.string() + " " +
               (dir_ / "two").string())
                .code,
            0);
  const std::string validate =
      "--resume --steps 61 --set training.lr=1e-30 --set training.val_every=61 --set training.val_max_examples=12"
      " --set batching.eval_max_tokens=300";  // several batches per task, for both ranks
  const auto one = sh(args(dir_ / "one", validate));
  ASSERT_EQ(one.code, 0) << one.out;
  // A run of one process resumed by two: the world size may change.
  ASSERT_EQ(run_ranks(2, dir_ / "two", validate), "0 0") << log_of(dir_ / "two", 0) << log_of(dir_ / "two", 1);
  EXPECT_NE(log_of(dir_ / "two", 0).find("resuming a run of 1 processes with 2"), std::string::npos)
      << log_of(dir_ / "two", 0);
  auto by_task_a = validation_by_task(dir_ / "one"), by_task_b = validation_by_task(dir_ / "two");
  ASSERT_EQ(by_task_a.size(), 11u);  // ten tasks and the decaScore
  EXPECT_GT(by_task_a["decascore"]["decascore"].get<double>(), 0.0) << "nothing to compare: every score is 0";
  for (auto& [task, j] : by_task_a) {
    for (const char* clock : {"elapsed_seconds", "time"}) {  // each run's seconds and wall-clock time, not scores
      j.erase(clock);
      by_task_b[task].erase(clock);
    }
    EXPECT_EQ(by_task_b[task], j) << task;
  }
}

// A rank that dies ends the other with an error naming it, well within the timeout.
TEST_F(Distributed, KilledRankEndsTheOtherNamingIt) {
  for (int victim : {1, 0}) {
    const fs::path run = dir_ / ("killed" + std::to_string(victim));
    const int survivor = 1 - victim;
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = sh(start(2, run, "--steps 100000 --dist-timeout 60") +
                      "for i in $(seq 1 200); do sleep 0.05; grep -q '\"step\":2,' " +
                      (run / "metrics.jsonl").string() + " 2>/dev/null && break; done; kill -KILL $p" +
                      std::to_string(victim) + "; wait $p" + std::to_string(survivor) + "; echo $?");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_NE(last_line(r.out), "0") << r.out;
    const std::string log = log_of(run, survivor);
    EXPECT_NE(log.find("rank " + std::to_string(victim) + " of 2 is lost"), std::string::npos) << log;
    EXPECT_NE(log.find("--resume"), std::string::npos) << log;
    EXPECT_LT(seconds, 40) << log;
  }
}

// torchrun's variables with a world of one: exactly a plain run.
TEST_F(Distributed, WorldSizeOneWithTheVariablesIsAPlainRun) {
  const auto plain = sh(args(dir_ / "plain", "--steps 5"));
  ASSERT_EQ(plain.code, 0) << plain.out;
  const auto one = sh("RANK=0 WORLD_SIZE=1 LOCAL_RANK=0 LOCAL_WORLD_SIZE=1 MASTER_ADDR=127.0.0.1 MASTER_PORT=1 " +
                      args(dir_ / "one", "--steps 5"));
  ASSERT_EQ(one.code, 0) << one.out;
  EXPECT_EQ(one.out.find("joining"), std::string::npos) << one.out;
  EXPECT_EQ(losses(dir_ / "plain"), losses(dir_ / "one"));
  EXPECT_EQ(deca::read_file(dir_ / "plain" / "checkpoints" / "last" / "model.safetensors"),
            deca::read_file(dir_ / "one" / "checkpoints" / "last" / "model.safetensors"));
}

// Bad launches fail at once, saying what is wrong.
// Ranks started with different configs (a width that aborted a rank inside
// Gloo, a step count that ended one early) stop before the first step, the
// message naming each key; where each machine keeps the data may differ.
TEST_F(Distributed, RanksWithDifferentConfigsAreRefusedNamingTheKeys) {
  const fs::path run = dir_ / "run";
  std::string lines;
  for (int r = 0; r < 2; ++r)
    lines += "RANK=" + std::to_string(r) + " WORLD_SIZE=2 LOCAL_RANK=" + std::to_string(r) +
             " LOCAL_WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port_) + " " +
             args(run, std::string("--dist-timeout 30 ") +
                           (r == 0 ? "--steps 2"
                                   : "--steps 3 --set model.dimension=32 --set data.data_root=" + sample() + "/")) +
             " > " + run.string() + ".rank" + std::to_string(r) + ".log 2>&1 & p" + std::to_string(r) + "=$!; ";
  const auto codes = last_line(sh(lines + "wait $p0; c0=$?; wait $p1; c1=$?; echo $c0 $c1").out);
  EXPECT_EQ(codes, "2 1") << log_of(run, 0) << log_of(run, 1);
  const std::string log0 = log_of(run, 0), log1 = log_of(run, 1);
  for (const char* part : {"the ranks were started with different configs",
                           "rank 1: model.dimension is 32 (rank 0: 64)", "rank 1: training.steps is 3 (rank 0: 2)"})
    EXPECT_NE(log0.find(part), std::string::npos) << part << "\n" << log0;
  EXPECT_EQ(log0.find("data_root"), std::string::npos) << log0;
  EXPECT_NE(log1.find("rank 0 failed during the comparison of the ranks' configs"), std::string::npos) << log1;
  EXPECT_FALSE(fs::exists(run / "checkpoints" / "last"));
}

TEST_F(Distributed, BadLaunchesAreRefusedWithTheReason) {
  auto r = sh(args(dir_ / "a", "--steps 1 --rank 2 --world-size 2"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("expected rank < world size"), std::string::npos) << r.out;
  r = sh(args(dir_ / "b", "--steps 1 --rank 0 --world-size 2 --dist-backend nccl"));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("nccl"), std::string::npos) << r.out;
  r = sh("RANK=1 " + args(dir_ / "c", "--steps 1"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("WORLD_SIZE is not set"), std::string::npos) << r.out;
  // Rank 1 alone, with no rank 0 to join: gives up after the timeout.
  r = sh(args(dir_ / "d", "--steps 1 --rank 1 --world-size 2 --dist-timeout 2 --master-port " + std::to_string(port_)));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("cannot join the rendezvous"), std::string::npos) << r.out;
  // Rank 0 of 3 alone: names the ranks that never came, after the timeout (not twice it).
  const auto alone_since = std::chrono::steady_clock::now();
  r = sh(args(dir_ / "e", "--steps 1 --rank 0 --world-size 3 --dist-timeout 3 --master-port " + std::to_string(port_)));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - alone_since).count();
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("ranks 1, 2 of 3 have not joined the run"), std::string::npos) << r.out;
  EXPECT_LT(seconds, 3 + 5) << r.out;
  EXPECT_FALSE(fs::exists(dir_ / "e")) << "a start that failed left its run folder";
  // Ranks given different world sizes: both stop at once, naming them.
  std::string both;
  for (int rank = 0; rank < 2; ++rank)
    both += args(dir_ / ("g" + std::to_string(rank)), "--steps 1 --rank " + std::to_string(rank) + " --world-size " +
                                                          std::to_string(2 + rank) +
                                                          " --dist-timeout 30 --master-port " + std::to_string(port_)) +
            " > " + (dir_ / "g").string() + std::to_string(rank) + ".log 2>&1 & p" + std::to_string(rank) + "=$!; ";
  r = sh(both + "wait $p0; c0=$?; wait $p1; c1=$?; echo $c0 $c1; cat " + (dir_ / "g").string() + "0.log " +
         (dir_ / "g").string() + "1.log");
  EXPECT_NE(r.out.find("rank 1 was started with a world size of 3, rank 0 with 2"), std::string::npos) << r.out;
  // Two processes with one rank: whichever comes second is refused at once.
  // (A world of 3 without a rank 2 keeps the others waiting meanwhile.)
  std::string twice;
  for (const char* name : {"h0", "h1", "h1b"})
    twice += args(dir_ / "h", std::string("--steps 1 --world-size 3 --dist-timeout 6 --master-port ") +
                                  std::to_string(port_) + " --rank " + (name[1] == '0' ? "0" : "1")) +
             " > " + (dir_ / name).string() + ".log 2>&1 & ";
  r = sh(twice + "wait; cat " + (dir_ / "h0").string() + ".log " + (dir_ / "h1").string() + ".log " +
         (dir_ / "h1b").string() + ".log");
  EXPECT_NE(r.out.find("another process has already joined the run as rank 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rank 2 of 3 has not joined the run"), std::string::npos) << r.out;
  // Another service on the port, which accepts and never answers: rank 1 gives
  // up after the timeout (it used to wait for ever).
  const std::string listener =
      "python3 -c 'import socket, time\n"
      "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((\"127.0.0.1\", " +
      std::to_string(port_) + ")); s.listen(5)\nc = [s.accept() for _ in range(2)]\ntime.sleep(60)' & l=$!; sleep 1; ";
  const auto t0 = std::chrono::steady_clock::now();
  r = sh(listener +
         args(dir_ / "f", "--steps 1 --rank 1 --world-size 2 --dist-timeout 2 --master-port " + std::to_string(port_)) +
         "; c=$?; kill $l; exit $c");
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("no answer from a rendezvous store there (is another service listening on that port?)"),
            std::string::npos)
      << r.out;
  EXPECT_LT(waited, 2 + 5 + 10) << r.out;
}

}  // namespace
