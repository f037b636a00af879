// Stop signals (SIGINT, SIGTERM, SIGHUP) for long-running work. The first
// signal asks the work to stop at the next safe point (after a training step,
// between decoding steps); a second one ends the process at once with exit
// code 130, unless a save is in progress: then the process ends as soon as
// the save is complete, so that what was being saved is not lost.
#pragma once

#include "deca/core/error.h"

namespace deca::stop {

// Installs the handlers (idempotent); a request that arrived earlier stays.
void install();
// Forgets any request (for a process that starts new work after a stop, and tests).
void reset();
// True once a stop signal arrived since install().
bool requested();
// The signal number of the first request (0: none).
int signal_number();
// Throws Interrupted when a stop was requested: call it at safe points.
void check();
// Simulates a signal (for tests): as if `sig` had arrived.
void raise_request(int sig);

// While one is alive, a second signal waits for it to end (a checkpoint being written).
class SaveGuard {
 public:
  SaveGuard();
  ~SaveGuard();
  SaveGuard(const SaveGuard&) = delete;
  SaveGuard& operator=(const SaveGuard&) = delete;
};

}  // namespace deca::stop
