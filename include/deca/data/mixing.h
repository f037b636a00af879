// Which task each training step draws its batch from: a curriculum of phases,
// each with its tasks and mixing rule. The choice is a pure function of the
// seed and the step, so a resumed run picks exactly the same tasks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "deca/core/config.h"

namespace deca {

class TaskMixer {
 public:
  // `task_sizes[i]`: training examples of the curriculum's i-th task (Config::all_tasks()).
  TaskMixer(const std::vector<PhaseOptions>& phases, const std::vector<std::string>& tasks,
            const std::vector<long>& task_sizes, uint64_t seed);

  struct Pick {
    size_t phase = 0;
    size_t task = 0;  // index into `tasks`
  };
  // The task of 1-based step `step`.
  Pick at(long step) const;
  // The sampling probability of each task in a phase (round robin: its share of a round).
  const std::vector<double>& probabilities(size_t phase) const { return phases_[phase].p; }

 private:
  struct Phase {
    long first_step = 1, last_step = 0;  // last_step 0: open-ended
    bool round_robin = true;
    std::vector<size_t> cycle;  // round robin: task per position in a round
    std::vector<size_t> tasks;  // weighted: task per entry of p
    std::vector<double> p, cdf;
    std::vector<size_t> rehearse;  // the tasks replayed, round robin
    double rehearsal = 0;          // their share of the phase's steps
  };
  std::vector<Phase> phases_;
  uint64_t seed_;
};

}  // namespace deca
