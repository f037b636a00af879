#include "deca/train/run_folder.h"

#include <array>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/core/log.h"

namespace fs = std::filesystem;

namespace deca {
namespace {

// What the trainer writes into a run folder: one run's history. (A cache
// folder is keyed by its contents and may serve the next run.)
constexpr std::array<const char*, 8> kRunFiles = {"checkpoints",    "validation",  "metrics.jsonl",  "tokenizer.model",
                                                  "tokenizer.json", "config.json", "init_from.json", "tensorboard"};
// The earlier run is deleted through this name: renaming to it is the moment
// the new run takes the folder, so a kill while deleting never brings back a
// half-deleted run over the new one.
constexpr const char* kDeleting = ".earlier-run.deleting";
// Lies in the earlier run's folder while the run folder holds no file of the
// new run (while the earlier run is set aside, and while it is put back once
// the new run's files are gone), so that an interrupted move continues instead
// of deleting the earlier run's files as the new run's.
constexpr const char* kNoNewFiles = ".no-new-run-files";

bool present(const fs::path& p) { return fs::exists(fs::symlink_status(p)); }

fs::path absolute_resolved(const fs::path& p) {
  fs::path out = fs::weakly_canonical(fs::absolute(p));
  if (out.filename().empty()) out = out.parent_path();  // "run/" resolves to ".../run/"
  return out;
}

// A run inside a checkpoint would rewrite the checkpoint's config.json (the
// checkpoint turns "damaged" for prediction and for its run's next resume).
const fs::path& outside_checkpoints(const fs::path& dir) {
  const fs::path abs = absolute_resolved(dir);
  for (fs::path p = abs;; p = p.parent_path()) {
    if (present(p / "model.safetensors") || present(p / "trainer_state.json"))
      throw ConfigError("--output " + dir.string() + (p == abs ? " is" : " lies inside") + " the checkpoint " +
                        p.string() +
                        ": a run there would rewrite the checkpoint's files; choose a folder outside it (to train on "
                        "from it: --init-from " +
                        p.string() + " --output NEW_FOLDER)");
    if (p.filename() == "checkpoints" &&
        (present(p.parent_path() / "metrics.jsonl") || present(p.parent_path() / "config.json")))
      throw ConfigError("--output " + dir.string() + " lies in the checkpoints folder of the run " +
                        p.parent_path().string() + "; choose a folder outside it");
    if (p == p.parent_path()) break;
  }
  return dir;
}

// The earlier run set aside goes back, exactly as it was: the new run's files
// go first, then the earlier run's files return.
void put_back(const fs::path& dir) {
  const fs::path aside = dir / RunFolder::kEarlierRun;
  if (!present(aside / kNoNewFiles)) {
    for (const char* name : kRunFiles) fs::remove_all(dir / name);
    write_file_atomic(aside / kNoNewFiles, "\n");
  }
  for (const auto& e : fs::directory_iterator(aside)) {
    if (e.path().filename() == kNoNewFiles) continue;
    fs::remove_all(dir / e.path().filename());
    fs::rename(e.path(), dir / e.path().filename());
  }
  fs::remove_all(aside);
}

// `last` and `best` are links; a run folder copied with `cp -rL` (or rsync
// -L) holds folders there instead, copies of the checkpoints they named, and
// saving the next checkpoint could not replace them. Each goes back to being
// a link: to its step's folder when that is there (the copy is removed),
// else the copy becomes that step's folder.
void restore_checkpoint_links(const fs::path& checkpoints) {
  for (const char* name : {"last", "best"}) {
    const fs::path p = checkpoints / name;
    const auto status = fs::symlink_status(p);
    if (!fs::is_directory(status)) continue;
    long step = -1;
    try {
      step = nlohmann::json::parse(read_file(p / "trainer_state.json")).at("step").get<long>();
    } catch (const std::exception&) {
      throw DataError(p.string() +
                      " is a folder, not a link to a checkpoint, and holds no readable trainer_state.json: "
                      "move it out of " +
                      checkpoints.string());
    }
    char step_name[32];
    std::snprintf(step_name, sizeof step_name, "step-%08ld", step);
    const fs::path target = checkpoints / step_name;
    if (present(target)) {
      // The copy goes only when it holds what the step's folder holds; else it is kept aside.
      std::error_code ec;
      const bool same = fs::exists(p / "checksums.sha1", ec) && fs::exists(target / "checksums.sha1", ec) &&
                        read_file(p / "checksums.sha1") == read_file(target / "checksums.sha1");
      if (same)
        fs::remove_all(p);
      else
        log::warn("{} differs from {}: kept as {}", p.string(), target.string(),
                  set_checkpoint_aside(p, "copied").string());
      log::warn("{} was a folder (a copy made by cp -L?), not a link: it is a link to {} again", p.string(), step_name);
    } else {
      fs::rename(p, target);
      log::warn("{} was a folder (a copy made by cp -L?), not a link: it is {} now, and {} links to it", p.string(),
                target.string(), name);
    }
    fs::create_directory_symlink(step_name, p);
  }
}

}  // namespace

RunFolder::RunFolder(const fs::path& dir, bool resume, bool overwrite)
    : dir_(dir), created_(!present(dir)), lock_(outside_checkpoints(dir)) {
  if (present(dir_ / kDeleting))
    fs::remove_all(dir_ / kDeleting);  // a new run took the folder; finish deleting the earlier one
  if (present(dir_ / kEarlierRun)) {
    log::warn("{}: an --overwrite was interrupted before the new run saved a checkpoint; putting the earlier run back",
              dir_.string());
    put_back(dir_);
  }
  const fs::path checkpoints = dir_ / "checkpoints";
  fs::create_directories(checkpoints);
  restore_checkpoint_links(checkpoints);
  bool has_checkpoints = false;
  std::string newest;
  for (const auto& e : fs::directory_iterator(checkpoints)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(".tmp-", 0) == 0) {
      log::info("removing {} (left by an interrupted save)", e.path().string());
      fs::remove_all(e.path());
    } else if (name.rfind("step-", 0) == 0 || name == "last") {
      has_checkpoints = true;
      if (name != "last" && name > newest) newest = name;
    }
  }
  if (resume || (!has_checkpoints && !present(dir_ / "metrics.jsonl"))) return;
  if (!overwrite)
    throw ConfigError(dir_.string() + " already holds a run" +
                      (newest.empty() ? "" : " (newest checkpoint " + newest + ")") +
                      ": continue it with --resume, start over with --overwrite (deletes its checkpoints and "
                      "metrics once the new run has saved a checkpoint), or choose another --output");
  const fs::path aside = dir_ / kEarlierRun;
  fs::create_directory(aside);
  write_file_atomic(aside / kNoNewFiles, "\n");
  for (const char* name : kRunFiles)
    if (present(dir_ / name)) fs::rename(dir_ / name, aside / name);
  fs::remove(aside / kNoNewFiles);
  aside_ = true;
  fs::create_directories(checkpoints);
  log::warn("--overwrite: the earlier run in {} is set aside in {} and deleted once the new run has saved a checkpoint",
            dir_.string(), aside.string());
}

RunFolder::~RunFolder() {
  if (created_ && !saved_) {
    // Nothing but the lock and an empty checkpoints folder: the folder goes.
    std::error_code ec;
    fs::remove(dir_ / "checkpoints", ec);  // only when empty
    bool only_lock = true;
    for (const auto& e : fs::directory_iterator(dir_, ec)) only_lock = only_lock && e.path().filename() == kLockFile;
    if (!ec && only_lock) {
      fs::remove(dir_ / kLockFile, ec);
      fs::remove(dir_, ec);
    }
  }
  if (!aside_) return;
  try {
    put_back(dir_);
    log::warn("the new run saved no checkpoint: the earlier run is back in {}", dir_.string());
  } catch (const std::exception& e) {
    log::error(
        "could not put the earlier run back from {} ({}); it is still there, and the next start in {} puts it back",
        (dir_ / kEarlierRun).string(), e.what(), dir_.string());
  }
}

void RunFolder::checkpoint_saved() {
  saved_ = true;
  if (!aside_) return;
  fs::rename(dir_ / kEarlierRun, dir_ / kDeleting);
  aside_ = false;
  fs::remove_all(dir_ / kDeleting);
  log::info("deleted the earlier run that --overwrite set aside (the new run has a checkpoint)");
}

bool path_within(const fs::path& inner, const fs::path& outer) {
  const fs::path a = absolute_resolved(inner), b = absolute_resolved(outer);
  auto ai = a.begin();
  for (auto bi = b.begin(); bi != b.end(); ++bi, ++ai)
    if (ai == a.end() || *ai != *bi) return false;
  return true;
}

fs::path set_checkpoint_aside(const fs::path& checkpoint, const std::string& why) {
  const std::string base = (checkpoint.parent_path() / (why + "-" + checkpoint.filename().string())).string();
  fs::path aside = base;
  for (int k = 2; present(aside); ++k) aside = base + "-" + std::to_string(k);
  fs::rename(checkpoint, aside);
  return aside;
}

}  // namespace deca
