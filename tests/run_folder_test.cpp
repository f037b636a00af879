// Run folders lose nothing: a new run never destroys an old one, two trainers
// never share a folder, a failed resume changes nothing, damaged or missing
// checkpoints fall back to the newest complete one, leftovers of killed saves
// are removed, metrics.jsonl reads as one history, and config problems stop
// the run before any work.
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <map>
#include <numeric>
#include <random>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/core/run_lock.h"
#include "deca/core/sha1.h"
#include "deca/core/stop.h"
#include "deca/model/decode.h"
#include "deca/model/safetensors.h"
#include "deca/train/checkpoint.h"
#include "deca/train/run_folder.h"
#include "deca/train/trainer.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

deca::Config tiny_config(const fs::path& output) {
  return deca::testing::tiny_config(output, nlohmann::json::parse(R"({
    "curriculum": [{"tasks": ["sst", "schema"], "mixing": "round_robin"}],
    "model": {"dimension": 16, "embedding_dim": 16, "transformer_hidden": 16},
    "training": {"lr_schedule": "constant", "lr": 0.001, "warmup": null, "seed": 3}
  })"));
}

deca::TrainerOptions resume() {
  deca::TrainerOptions o;
  o.resume = true;
  return o;
}

// The steps of metrics.jsonl's training lines, in file order.
std::vector<long> logged_steps(const fs::path& run) {
  std::vector<long> out;
  deca::for_each_line(run / "metrics.jsonl", [&](std::string_view line, long) {
    const auto j = nlohmann::json::parse(line);
    if (j["type"] == "train") out.push_back(j["step"].get<long>());
  });
  return out;
}

void flip_byte(const fs::path& file, size_t from_end) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(0, std::ios::end);
  const auto size = static_cast<size_t>(f.tellg());
  const auto pos = static_cast<std::streamoff>(size - from_end);
  f.seekg(pos);
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(pos);
  f.write(&c, 1);
}

// Every file and link of a run folder with its contents or target (the lock,
// which names its holder, and the keyed data cache left out).
std::map<std::string, std::string> snapshot(const fs::path& run) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(run); it != fs::recursive_directory_iterator(); ++it) {
    const std::string rel = fs::relative(it->path(), run).string();
    if (rel == ".lock" || rel.rfind("cache", 0) == 0) continue;
    if (it->is_symlink())
      out[rel] = "-> " + fs::read_symlink(it->path()).string();
    else if (it->is_regular_file())
      out[rel] = deca::read_file(it->path());
  }
  return out;
}

// Rewrites a checkpoint's checksums.sha1 over its files as they are now.
void rehash(const fs::path& checkpoint) {
  std::string sums;
  for (const auto& e : fs::directory_iterator(checkpoint))
    if (e.path().filename() != "checksums.sha1")
      sums += deca::sha1_hex(deca::read_file(e.path())) + "  " + e.path().filename().string() + "\n";
  deca::write_file_atomic(checkpoint / "checksums.sha1", sums);
}

class RunFolder : public ::testing::Test {
 protected:
  void SetUp() override { deca::stop::reset(); }
  void train(deca::Config c, deca::TrainerOptions o = {}) {
    deca::Trainer t(std::move(c), o);
    ASSERT_EQ(t.run(), 0);
  }
  deca::testing::TempDir tmp_{"deca-runs"};
  const fs::path dir_ = tmp_.path(), run_ = dir_ / "run", ck_ = run_ / "checkpoints";
};

TEST_F(RunFolder, NewRunOverAnOldOneIsRefusedUnlessOverwriting) {
  train(tiny_config(run_));  // checkpoints 10 and 12
  const auto msg = deca::testing::what_of([&] { deca::Trainer t(tiny_config(run_), {}); });
  EXPECT_NE(msg.find("--resume"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--overwrite"), std::string::npos) << msg;
  EXPECT_TRUE(fs::exists(ck_ / "step-00000012" / "model.safetensors"));
  EXPECT_EQ(fs::read_symlink(ck_ / "last").string(), "step-00000012");
  deca::TrainerOptions over;
  over.overwrite = true;
  auto c = tiny_config(run_);
  c.training.steps = 3;
  train(c, over);
  EXPECT_FALSE(fs::exists(ck_ / "step-00000012"));
  EXPECT_EQ(fs::read_symlink(ck_ / "last").string(), "step-00000003");
  EXPECT_EQ(logged_steps(run_), (std::vector<long>{1, 2, 3}));
}

// A start that fails leaves no folder it made with only a lock in it; a folder
// that was there, or holds anything else (a trained tokenizer), stays.
TEST_F(RunFolder, AFailedStartLeavesNoEmptyFolderBehind) {
  { deca::RunFolder folder(run_, false, false); }
  EXPECT_FALSE(fs::exists(run_));
  fs::create_directories(run_);
  { deca::RunFolder folder(run_, false, false); }
  EXPECT_TRUE(fs::exists(run_));
  fs::remove_all(run_);
  {
    deca::RunFolder folder(run_, false, false);
    deca::write_file_atomic(run_ / "tokenizer.model", "pieces");
  }
  EXPECT_TRUE(fs::exists(run_ / "tokenizer.model"));
  fs::remove_all(run_);
  {
    deca::RunFolder folder(run_, false, false);
    folder.checkpoint_saved();
  }
  EXPECT_TRUE(fs::exists(run_ / "checkpoints"));
  // Through the trainer: a training split that cannot be read.
  fs::remove_all(run_);
  const fs::path data = dir_ / "data";
  fs::create_directories(data / "sst");
  for (const char* split : {"train", "dev", "test"})
    deca::write_file_atomic(data / "sst" / (std::string(split) + "_binary_sent.csv"),
                            "label,sentence\nx,not a label\n");
  auto c = tiny_config(run_);
  c.data.data_root = data.string();
  c.curriculum[0].tasks = {"sst"};
  const auto msg = deca::testing::what_of([&] { deca::Trainer t(c, {}); });
  EXPECT_NE(msg.find("sst"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(run_ / ".lock")) << msg;
}

// --overwrite sets the earlier run aside and deletes it only once the new run
// has a checkpoint: a new run that cannot start (a bad record, a data root
// that is not there, a kill before its first checkpoint) leaves it as it was.
TEST_F(RunFolder, AnOverwriteThatCannotStartLosesNothing) {
  train(tiny_config(run_));  // checkpoints 10 and 12
  const auto before = snapshot(run_);
  ASSERT_TRUE(before.count("checkpoints/step-00000012/model.safetensors"));
  deca::TrainerOptions over;
  over.overwrite = true;
  const fs::path data = dir_ / "data";
  fs::copy(deca::testing::source_dir() / "data" / "sample", data, fs::copy_options::recursive);
  std::ofstream(data / "sst" / "train_binary_sent.csv", std::ios::app) << "2,a label that is not 0 or 1\n";
  auto bad_record = tiny_config(run_);
  bad_record.data.data_root = data.string();
  auto msg = deca::testing::what_of([&] { deca::Trainer t(bad_record, over); });
  EXPECT_NE(msg.find("label 0 or 1"), std::string::npos) << msg;
  EXPECT_EQ(snapshot(run_), before);
  auto typo = tiny_config(run_);
  typo.data.data_root = (dir_ / "no-such-data").string();
  msg = deca::testing::what_of([&] { deca::Trainer t(typo, over); });
  EXPECT_FALSE(msg.empty());
  EXPECT_EQ(snapshot(run_), before);
  EXPECT_FALSE(fs::exists(run_ / deca::RunFolder::kEarlierRun));

  // Killed right after setting the earlier run aside: the next start in the
  // folder puts it back (here a --resume, which continues it).
  const pid_t pid = ::fork();
  if (pid == 0) {
    deca::RunFolder folder(run_, false, true);
    ::_exit(0);  // no destructor runs, as in a kill
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(fs::exists(run_ / deca::RunFolder::kEarlierRun / "checkpoints" / "step-00000012"));
  EXPECT_FALSE(fs::exists(ck_ / "step-00000012"));
  auto longer = tiny_config(run_);
  longer.training.steps = 13;
  train(longer, resume());
  EXPECT_EQ(deca::read_trainer_state(ck_ / "last")["step"], 13);
  EXPECT_FALSE(fs::exists(run_ / deca::RunFolder::kEarlierRun));

  // An overwrite that saves a checkpoint replaces the earlier run for good.
  auto again = tiny_config(run_);
  again.training.steps = 2;
  train(again, over);
  EXPECT_EQ(logged_steps(run_), (std::vector<long>{1, 2}));
  EXPECT_FALSE(fs::exists(ck_ / "step-00000012"));
  EXPECT_FALSE(fs::exists(run_ / deca::RunFolder::kEarlierRun));
}

// Fine-tuning "in place" (--init-from X --output X --overwrite) would replace
// the weights it reads; a run inside a checkpoint would rewrite its files.
TEST_F(RunFolder, ARunCannotReplaceTheCheckpointItStartsFromOrLiveInOne) {
  train(tiny_config(run_));
  const auto before = snapshot(run_);
  deca::TrainerOptions in_place;
  in_place.overwrite = true;
  in_place.init_from = run_.string();
  auto msg = deca::testing::what_of([&] { deca::Trainer t(tiny_config(run_), in_place); });
  EXPECT_NE(msg.find("lies in --output " + run_.string()), std::string::npos) << msg;
  EXPECT_EQ(snapshot(run_), before);
  for (const fs::path& output : {ck_ / "step-00000012", ck_ / "last", ck_ / "step-00000012" / "sub", ck_}) {
    for (bool overwrite : {false, true}) {
      deca::TrainerOptions o;
      o.overwrite = overwrite;
      msg = deca::testing::what_of([&] { deca::Trainer t(tiny_config(output), o); });
      EXPECT_NE(msg.find("choose a folder outside it"), std::string::npos) << output << ": " << msg;
    }
  }
  EXPECT_EQ(snapshot(run_), before);
}

// A run that diverges (here: a learning rate of 1e30 from step 7 on) neither
// saves nor prunes while its losses are non-finite; the checkpoint whose
// weights gave them is set aside, and the message names a good one.
TEST_F(RunFolder, ADivergingRunKeepsItsLastGoodCheckpoint) {
  auto c = tiny_config(run_);
  c.training.steps = 6;
  c.training.save_every = 2;
  c.training.keep_last = 1;
  train(c);
  auto diverge = c;
  diverge.training.steps = 20;
  diverge.training.lr = 1e30;
  diverge.training.save_every = 1;
  diverge.training.max_bad_steps = 3;
  auto o = resume();
  o.set_keys = {"training.lr"};
  const auto msg = deca::testing::what_of([&] {
    deca::Trainer t(diverge, o);
    t.run();
  });
  EXPECT_NE(msg.find("3 non-finite losses in a row at step 10"), std::string::npos) << msg;
  EXPECT_NE(msg.find("The weights of step 7 gave them"), std::string::npos) << msg;
  EXPECT_NE(msg.find("the last good checkpoint is " + (ck_ / "last").string() + " (step-00000006)"), std::string::npos)
      << msg;
  EXPECT_EQ(fs::read_symlink(ck_ / "last").string(), "step-00000006");
  EXPECT_EQ(deca::read_trainer_state(ck_ / "last")["consecutive_bad_steps"], 0);
  EXPECT_TRUE(fs::exists(ck_ / "diverged-step-00000007" / "model.safetensors"));
  EXPECT_EQ(deca::checkpoint_folders(ck_).size(), 1u);
}

// Two damaged copies of one step are both kept.
TEST_F(RunFolder, CheckpointsSetAsideNeverReplaceEachOther) {
  for (const char* copy : {"first", "second"}) {
    fs::create_directories(ck_ / "step-00000012");
    deca::write_file_atomic(ck_ / "step-00000012" / "model.safetensors", copy);
    deca::set_checkpoint_aside(ck_ / "step-00000012", "damaged");
  }
  EXPECT_EQ(deca::read_file(ck_ / "damaged-step-00000012" / "model.safetensors"), "first");
  EXPECT_EQ(deca::read_file(ck_ / "damaged-step-00000012-2" / "model.safetensors"), "second");
}

// A lock file that is a link is refused, not followed (its target truncated).
TEST_F(RunFolder, ALockThatIsALinkIsRefused) {
  fs::create_directories(run_);
  deca::write_file_atomic(dir_ / "precious.txt", "keep me\n");
  fs::create_symlink(dir_ / "precious.txt", run_ / ".lock");
  const auto msg = deca::testing::what_of([&] { deca::FolderLock lock(run_); });
  EXPECT_NE(msg.find("is a symbolic link"), std::string::npos) << msg;
  EXPECT_EQ(deca::read_file(dir_ / "precious.txt"), "keep me\n");
}

// A stop during the validation of the final step leaves its checkpoint with
// the validation pending (and no partial validation lines): --resume runs it.
TEST_F(RunFolder, AValidationStoppedAtTheFinalStepRunsOnResume) {
  auto c = tiny_config(run_);
  c.training.val_every = 6;
  train(c);
  auto count_validations = [&](long step) {
    long n = 0;
    deca::for_each_line(run_ / "metrics.jsonl", [&](std::string_view line, long) {
      const auto j = nlohmann::json::parse(line);
      n += j["type"] == "validation" && j["step"] == step;
    });
    return n;
  };
  ASSERT_EQ(count_validations(12), 3);  // sst, schema, decascore
  // The state a stop during that validation leaves.
  const fs::path last = ck_ / "step-00000012";
  auto state = deca::read_trainer_state(last);
  EXPECT_EQ(state["validation_pending"], false);
  state["validation_pending"] = true;
  deca::write_file_atomic(last / "trainer_state.json", state.dump(2) + "\n");
  rehash(last);
  std::string kept;
  deca::for_each_line(run_ / "metrics.jsonl", [&](std::string_view line, long) {
    const auto j = nlohmann::json::parse(line);
    if (!(j["type"] == "validation" && j["step"] == 12)) kept += std::string(line) + "\n";
  });
  deca::write_file_atomic(run_ / "metrics.jsonl", kept);
  train(c, resume());
  EXPECT_EQ(count_validations(12), 3);
  EXPECT_EQ(count_validations(6), 3);
  EXPECT_EQ(deca::read_trainer_state(ck_ / "last")["validation_pending"], false);
}

// --resume trains on with the tokenizer the weights were trained with: a
// missing tokenizer.json (tokenization changed silently: loss 4e-5 -> 14.4) or
// a swapped tokenizer.model in the run folder is refused, naming the
// checkpoint's copy to restore.
TEST_F(RunFolder, ResumeRefusesATokenizerThatIsNotTheCheckpoints) {
  train(tiny_config(run_));
  auto longer = tiny_config(run_);
  longer.training.steps = 13;
  const std::string side = deca::read_file(run_ / "tokenizer.json");
  fs::remove(run_ / "tokenizer.json");
  auto msg = deca::testing::what_of([&] { deca::Trainer t(longer, resume()); });
  EXPECT_NE(msg.find((run_ / "tokenizer.json").string() + " is missing"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cp " + (ck_ / "step-00000012" / "tokenizer.json").string()), std::string::npos) << msg;
  deca::write_file_atomic(run_ / "tokenizer.json", side);
  const std::string model = deca::read_file(run_ / "tokenizer.model");
  flip_byte(run_ / "tokenizer.model", 40);  // same size, other bytes
  msg = deca::testing::what_of([&] { deca::Trainer t(longer, resume()); });
  EXPECT_NE(msg.find((run_ / "tokenizer.model").string() + " differs from"), std::string::npos) << msg;
  deca::write_file_atomic(run_ / "tokenizer.model", model);
  train(longer, resume());
  EXPECT_EQ(deca::read_trainer_state(ck_ / "last")["step"], 13);
}

// SentencePiece takes its options as one string split at spaces: a run folder
// with a space in its path still trains its tokenizer.
TEST_F(RunFolder, ARunFolderWithASpaceInItsPathTrainsItsTokenizer) {
  const fs::path spaced = dir_ / "my runs" / "run 1";
  train(tiny_config(spaced));
  EXPECT_TRUE(fs::exists(spaced / "tokenizer.model"));
  EXPECT_TRUE(fs::exists(spaced / "tokenizer.json"));
  EXPECT_EQ(deca::read_trainer_state(spaced / "checkpoints" / "last")["step"], 12);
}

TEST_F(RunFolder, ASecondProcessCannotTrainIntoTheSameFolder) {
  deca::Trainer first(tiny_config(run_), {});
  deca::TrainerOptions over;
  over.overwrite = true;
  const auto msg = deca::testing::what_of([&] { deca::Trainer second(tiny_config(run_), over); });
  EXPECT_NE(msg.find("in use by process " + std::to_string(::getpid())), std::string::npos) << msg;
  EXPECT_EQ(first.run(), 0);  // the holder's checkpoints are intact
  EXPECT_TRUE(fs::exists(ck_ / "last" / "model.safetensors"));
}

TEST_F(RunFolder, AStaleLockOfADeadProcessIsNotInTheWay) {
  fs::create_directories(run_);
  deca::write_file_atomic(run_ / ".lock", "process 999999 on a-host-that-is-gone\n");
  train(tiny_config(run_));
  // The lock is released with its holder.
  { deca::FolderLock again(run_); }
}

TEST_F(RunFolder, AFailedResumeChangesNothing) {
  train(tiny_config(run_));
  const std::string config_before = deca::read_file(run_ / "config.json");
  const std::string metrics_before = deca::read_file(run_ / "metrics.jsonl");
  auto wider = tiny_config(run_);
  wider.model.dimension = 24;  // the checkpoint's tensors no longer fit
  wider.training.steps = 20;
  const auto msg = deca::testing::what_of([&] { deca::Trainer t(wider, resume()); });
  EXPECT_NE(msg.find("model.dimension (the run: 16, now: 24)"), std::string::npos) << msg;
  EXPECT_EQ(deca::read_file(run_ / "config.json"), config_before);
  EXPECT_EQ(deca::read_file(run_ / "metrics.jsonl"), metrics_before);
  // Set deliberately, the width passes the config check and the weights do not fit.
  auto deliberate = resume();
  deliberate.set_keys = {"model.dimension"};
  const auto shape_msg = deca::testing::what_of([&] { deca::Trainer t(wider, deliberate); });
  EXPECT_NE(shape_msg.find("shape"), std::string::npos) << shape_msg;
  EXPECT_EQ(deca::read_file(run_ / "config.json"), config_before);
  // A changed task list is named as such, set deliberately or not.
  auto other = tiny_config(run_);
  other.curriculum[0].tasks = {"sst", "woz.en"};
  const auto tasks_msg = deca::testing::what_of([&] { deca::Trainer t(other, resume()); });
  EXPECT_NE(tasks_msg.find("curriculum.0.tasks.1"), std::string::npos) << tasks_msg;
  deliberate.set_keys = {"curriculum.0.tasks"};
  const auto trained_msg = deca::testing::what_of([&] { deca::Trainer t(other, deliberate); });
  EXPECT_NE(trained_msg.find("trains task woz.en"), std::string::npos) << trained_msg;
  EXPECT_EQ(deca::read_file(run_ / "config.json"), config_before);
}

// --resume with a config that would train differently (here: another dropout,
// as when a run started with --set is resumed with its --config alone) is
// refused, naming the key and both values; the same change given on the
// command line is accepted; keys of how the run runs may change freely.
TEST_F(RunFolder, ResumeRefusesAConfigThatTrainsSomethingElse) {
  train(tiny_config(run_));
  const std::string config_before = deca::read_file(run_ / "config.json");
  auto changed = tiny_config(run_);
  changed.model.dropout = 0.35;
  changed.training.steps = 14;
  changed.training.log_every = 2;
  const auto msg = deca::testing::what_of([&] { deca::Trainer t(changed, resume()); });
  EXPECT_NE(msg.find("model.dropout (the run: 0.2, now: 0.35)"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("training.steps"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("training.log_every"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--set"), std::string::npos) << msg;
  EXPECT_EQ(deca::read_file(run_ / "config.json"), config_before);
  auto deliberate = resume();
  deliberate.set_keys = {"model.dropout"};
  train(changed, deliberate);
  EXPECT_NE(deca::read_file(run_ / "config.json").find("0.35"), std::string::npos);
}

// --resume --config FILE: the run's data root stays the run's (a run started
// with --data-root, resumed with its config file, read data/sample), unless
// the command line moves it.
TEST_F(RunFolder, ResumeKeepsTheRunsDataRootUnlessTheCommandLineMovesIt) {
  const fs::path data = dir_ / "data";
  fs::copy(deca::testing::source_dir() / "data" / "sample", data, fs::copy_options::recursive);
  auto c = tiny_config(run_);
  c.data.data_root = data.string();
  train(c);
  auto from_file = tiny_config(run_);  // the config file's data root: elsewhere
  from_file.data.data_root = (dir_ / "elsewhere").string();
  from_file.training.steps = 13;
  train(from_file, resume());
  EXPECT_EQ(deca::load_config(run_ / "config.json").data.data_root, data.string());
  from_file.training.steps = 14;
  auto moved = resume();
  moved.set_keys = {"data.data_root"};
  const auto msg = deca::testing::what_of([&] { deca::Trainer t(from_file, moved); });
  EXPECT_NE(msg.find("elsewhere"), std::string::npos) << msg;
}

TEST_F(RunFolder, ResumeFallsBackToTheNewestCompleteCheckpoint) {
  train(tiny_config(run_));  // checkpoints 10 and 12
  flip_byte(ck_ / "step-00000012" / "optimizer.safetensors", 100);
  EXPECT_NE(deca::checkpoint_problem(ck_ / "step-00000012").value_or("").find("optimizer.safetensors is damaged"),
            std::string::npos);
  auto longer = tiny_config(run_);
  longer.training.steps = 14;
  train(longer, resume());
  // Resumed at 10: the damaged step 12 was set aside, not deleted, and
  // metrics.jsonl holds every step once, in order.
  EXPECT_TRUE(fs::exists(ck_ / "damaged-step-00000012" / "optimizer.safetensors"));
  EXPECT_EQ(fs::read_symlink(ck_ / "last").string(), "step-00000014");
  std::vector<long> expected(14);
  std::iota(expected.begin(), expected.end(), 1);
  EXPECT_EQ(logged_steps(run_), expected);
  EXPECT_EQ(deca::read_trainer_state(ck_ / "last")["step"], 14);
}

TEST_F(RunFolder, AMissingLastLinkDoesNotStopAResume) {
  train(tiny_config(run_));
  fs::remove(ck_ / "last");
  auto longer = tiny_config(run_);
  longer.training.steps = 13;
  train(longer, resume());
  EXPECT_EQ(fs::read_symlink(ck_ / "last").string(), "step-00000013");
}

// A run folder copied with links followed (cp -rL): `last` and `best` are
// folders; they become links again and the run resumes and saves.
TEST_F(RunFolder, ARunCopiedWithLinksFollowedResumes) {
  auto c = tiny_config(run_);
  c.training.val_every = 6;  // a best checkpoint too
  train(c);
  const fs::path copy = dir_ / "copy";
  fs::copy(run_, copy, fs::copy_options::recursive);  // follows links, as cp -rL
  ASSERT_TRUE(fs::is_directory(fs::symlink_status(copy / "checkpoints" / "last")));
  auto longer = c;
  longer.output = copy.string();
  longer.training.steps = 13;
  train(longer, resume());
  EXPECT_EQ(fs::read_symlink(copy / "checkpoints" / "last").string(), "step-00000013");
  EXPECT_TRUE(fs::is_symlink(copy / "checkpoints" / "best"));
  EXPECT_TRUE(fs::exists(copy / "checkpoints" / "best" / "model.safetensors"));
}

TEST_F(RunFolder, DamagedWeightsAreDetectedAtLoad) {
  train(tiny_config(run_));
  flip_byte(ck_ / "step-00000012" / "model.safetensors", 10);
  const auto msg = deca::testing::what_of([&] { deca::load_checkpoint(ck_ / "step-00000012", torch::kCPU); });
  EXPECT_NE(msg.find("model.safetensors is damaged"), std::string::npos) << msg;
}

TEST_F(RunFolder, ErrorsInCheckpointFilesNameTheirFile) {
  // Files whose checksums hold but whose contents are cut (as a buggy copy
  // tool that also rewrote the checksums would leave them): errors naming the
  // file, not a LibTorch trace.
  train(tiny_config(run_));
  const fs::path last = ck_ / "step-00000012";
  fs::resize_file(last / "optimizer.safetensors", 100);
  rehash(last);
  auto longer = tiny_config(run_);
  longer.training.steps = 13;
  auto msg = deca::testing::what_of([&] { deca::Trainer t(longer, resume()); });
  EXPECT_NE(msg.find((last / "optimizer.safetensors").string()), std::string::npos) << msg;
  EXPECT_EQ(msg.find("unexpected"), std::string::npos) << msg;
  deca::write_file_atomic(last / "trainer_state.json", "{\"step\": 12, \"positi");
  rehash(last);
  msg = deca::testing::what_of([&] { deca::Trainer t(longer, resume()); });
  EXPECT_NE(msg.find((last / "trainer_state.json").string()), std::string::npos) << msg;
  deca::write_file_atomic(last / "rng.pt", "not a torch archive");
  EXPECT_NE(deca::testing::what_of([&] { deca::load_rng_state(last / "rng.pt"); }).find((last / "rng.pt").string()),
            std::string::npos);
}

// A checkpoint without checksums.sha1, with an empty one, or with one that
// leaves a file out is incomplete (a partial rsync leaves such folders): it is
// not loaded, and --resume falls back to the one before, as for a damaged one.
TEST_F(RunFolder, CheckpointsWithoutCompleteChecksumsAreIncomplete) {
  train(tiny_config(run_));  // checkpoints 10 and 12
  const fs::path last = ck_ / "step-00000012", sums = last / "checksums.sha1";
  const std::string all = deca::read_file(sums);
  std::string without_model;
  deca::for_each_line_in(all, [&](std::string_view line, long) {
    if (line.find("model.safetensors") == std::string_view::npos) without_model += std::string(line) + "\n";
  });
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "config.json is not in checksums.sha1"}, {without_model, "model.safetensors is not in checksums.sha1"}};
  for (const auto& [contents, expected] : cases) {
    deca::write_file_atomic(sums, contents);
    EXPECT_NE(deca::checkpoint_problem(last).value_or("").find(expected), std::string::npos) << expected;
    const auto msg = deca::testing::what_of([&] { deca::load_checkpoint(last, torch::kCPU); });
    EXPECT_NE(msg.find("incomplete checkpoint"), std::string::npos) << msg;
  }
  fs::remove(sums);
  EXPECT_NE(deca::checkpoint_problem(last).value_or("").find("missing checksums.sha1"), std::string::npos);
  auto longer = tiny_config(run_);
  longer.training.steps = 13;
  train(longer, resume());  // from step 10
  EXPECT_TRUE(fs::exists(ck_ / "damaged-step-00000012" / "model.safetensors"));
  EXPECT_EQ(deca::read_trainer_state(ck_ / "last")["step"], 13);
}

// Non-finite weights and impossible optimizer moments in a checkpoint whose
// checksums hold are refused at load, naming the tensor.
TEST_F(RunFolder, NonFiniteWeightsAndImpossibleMomentsAreRefusedAtLoad) {
  train(tiny_config(run_));
  const fs::path last = ck_ / "step-00000012";
  auto weights = deca::model::read_safetensors(last / "model.safetensors");
  const std::string name = weights.begin()->first;
  weights.begin()->second.view(-1)[0] = std::numeric_limits<float>::quiet_NaN();
  deca::write_file_atomic(last / "model.safetensors", deca::model::encode_safetensors(weights));
  rehash(last);
  auto msg = deca::testing::what_of([&] { deca::load_checkpoint(last, torch::kCPU); });
  EXPECT_NE(msg.find("tensor \"" + name + "\" holds non-finite values"), std::string::npos) << msg;
  auto longer = tiny_config(run_);
  longer.training.steps = 13;
  msg = deca::testing::what_of([&] { deca::Trainer t(longer, resume()); });
  EXPECT_NE(msg.find("non-finite values"), std::string::npos) << msg;

  const fs::path before = ck_ / "step-00000010";
  auto moments = deca::model::read_safetensors(before / "optimizer.safetensors");
  std::string second;
  for (auto& [n, t] : moments)
    if (n.size() > 11 && n.compare(n.size() - 11, 11, ".exp_avg_sq") == 0) {
      t.view(-1)[0] = -1.0f;
      second = n;
      break;
    }
  ASSERT_FALSE(second.empty());
  deca::write_file_atomic(before / "optimizer.safetensors", deca::model::encode_safetensors(moments));
  rehash(before);
  fs::remove_all(last);
  msg = deca::testing::what_of([&] { deca::Trainer t(longer, resume()); });
  EXPECT_NE(msg.find("optimizer state \"" + second + "\" holds negative values"), std::string::npos) << msg;
}

TEST_F(RunFolder, LeftoversOfKilledSavesAreRemoved) {
  train(tiny_config(run_));
  fs::create_directories(ck_ / ".tmp-step-00000015-4242");
  deca::write_file_atomic(ck_ / ".tmp-step-00000015-4242" / "model.safetensors", "half");
  auto longer = tiny_config(run_);
  longer.training.steps = 13;
  deca::Trainer t(longer, resume());
  EXPECT_FALSE(fs::exists(ck_ / ".tmp-step-00000015-4242"));
}

TEST_F(RunFolder, AnUnknownBestMetricFailsBeforeAnyWork) {
  auto c = tiny_config(run_);
  c.training.val_every = 5;
  c.training.best_metric = "sst.accuracy";
  const auto msg = deca::testing::what_of([&] { deca::Trainer t(c, {}); });
  EXPECT_NE(msg.find("training.best_metric"), std::string::npos) << msg;
  EXPECT_NE(msg.find("sst.em"), std::string::npos) << msg;  // the known ones are listed
  EXPECT_FALSE(fs::exists(run_ / "tokenizer.model"));
  EXPECT_FALSE(fs::exists(run_ / "config.json"));
  EXPECT_FALSE(fs::exists(run_)) << "nothing is created before the config is known to work";
  c.training.best_metric = "schema.em";
  EXPECT_NO_THROW(deca::Trainer(c, {}));
}

TEST_F(RunFolder, AStopRequestEndsDecodingAtOnce) {
  train(tiny_config(run_));
  const auto m = deca::load_checkpoint(run_, torch::kCPU).predictor;
  deca::EncodedSplit data;
  deca::Example ex;
  ex.context = "a fine film";
  ex.question = "Is this review negative or positive?";
  ex.answers = {""};
  data = deca::encode({ex}, *m.tokenizer, {});
  const auto batch = deca::model::make_batch(data, {0}, m.vocab, torch::kCPU, false);
  deca::stop::raise_request(SIGINT);
  EXPECT_THROW(deca::model::decode(*m.model, batch, m.vocab, {}), deca::Interrupted);
  deca::stop::reset();
  EXPECT_NO_THROW(deca::model::decode(*m.model, batch, m.vocab, {}));
}

TEST_F(RunFolder, AStopDuringValidationSavesAndReturns) {
  auto c = tiny_config(run_);
  c.training.val_every = 2;
  c.training.steps = 1000;
  deca::Trainer t(c, {});
  // A request pending when a step ends: the step's validation is skipped,
  // the checkpoint is written and run() returns 130.
  deca::stop::raise_request(SIGTERM);
  EXPECT_EQ(t.run(), 130);
  deca::stop::reset();
  EXPECT_EQ(fs::read_symlink(ck_ / "last").string(), "step-00000001");
  EXPECT_EQ(deca::read_trainer_state(ck_ / "last")["step"], 1);
}

}  // namespace
