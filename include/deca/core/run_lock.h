// An exclusive lock on a folder (a run folder) for the life of the object, so
// that two trainers never share one run. The lock is an flock(2) on
// <folder>/.lock, which the kernel releases when the holder dies, so a lock
// left by a killed process is never in the way; the file names the holder
// (PID and host) for the message the second process prints.
#pragma once

#include <filesystem>

namespace deca {

inline constexpr const char* kLockFile = ".lock";  // in the locked folder

class FolderLock {
 public:
  // Takes the lock or throws Error("... in use by process PID on HOST ...").
  explicit FolderLock(const std::filesystem::path& folder);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace deca
