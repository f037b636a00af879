// Which deca this is: the project's version and the commit it was built from
// (git describe: the abbreviated hash, "-dirty" with uncommitted changes,
// "unknown" outside a git checkout). Checkpoints, metrics.jsonl and reports
// record both, so a result can be traced to the build that made it.
#pragma once

#include <string>

namespace deca {

const char* version();
const char* build_commit();

// "deca 0.1.0 (commit 0123456789ab)"
inline std::string version_line() { return std::string("deca ") + version() + " (commit " + build_commit() + ")"; }

}  // namespace deca
