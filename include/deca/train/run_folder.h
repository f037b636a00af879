// A run folder around the trainer (torch-free): the lock that keeps a second
// trainer out, where a run may live, and --overwrite, which sets the earlier
// run aside and deletes it only once the new run has saved a checkpoint, so
// that a new run that cannot start (a typo in the data root, a bad record, a
// shape mismatch, a kill) loses nothing.
#pragma once

#include <filesystem>
#include <string>

#include "deca/core/run_lock.h"

namespace deca {

class RunFolder {
 public:
  // Refuses a folder inside a checkpoint, takes the folder's lock, removes
  // leftovers of killed saves and puts back an earlier run that an interrupted
  // --overwrite set aside. A new run (neither resume nor overwrite) over an
  // earlier one is refused; with overwrite the earlier one is set aside.
  RunFolder(const std::filesystem::path& dir, bool resume, bool overwrite);
  // Without a checkpoint of the new run, the earlier run set aside goes back;
  // a folder this run made and left empty (a start that failed) is removed.
  ~RunFolder();
  RunFolder(const RunFolder&) = delete;
  RunFolder& operator=(const RunFolder&) = delete;

  // The new run has saved a checkpoint: the earlier run set aside is deleted.
  void checkpoint_saved();

  // The folder an --overwrite sets the earlier run aside in.
  static constexpr const char* kEarlierRun = ".earlier-run";

 private:
  std::filesystem::path dir_;
  bool created_;  // the folder was not there before
  FolderLock lock_;
  bool aside_ = false;  // an earlier run waits in kEarlierRun
  bool saved_ = false;  // the new run has saved a checkpoint
};

// True when `inner` is `outer` or lies inside it (after resolving links).
bool path_within(const std::filesystem::path& inner, const std::filesystem::path& outer);

// Moves a checkpoint folder aside as <why>-<name> ("damaged", "diverged"; with
// -2, -3, ... when a copy of that step was set aside before) and returns the new path.
std::filesystem::path set_checkpoint_aside(const std::filesystem::path& checkpoint, const std::string& why);

}  // namespace deca
