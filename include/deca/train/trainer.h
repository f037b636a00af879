// Multitask training from a config: the loop, validation, checkpoints and
// exact resume. The loop itself fits on one screen (Trainer::run); everything
// it needs is prepared in the constructor.
#pragma once

#include <memory>
#include <string>

#include "deca/core/config.h"

namespace deca {

struct TrainerOptions {
  bool resume = false;  // continue from <output>/checkpoints/last
};

class Trainer {
 public:
  Trainer(Config config, TrainerOptions options);
  ~Trainer();
  // Trains until training.steps. Returns 0 when done, 130 when stopped by
  // SIGINT/SIGTERM after saving; throws on fatal errors (e.g. a run of NaN losses).
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The learning rate at 1-based step `step`.
double learning_rate(const TrainOptions& t, long dimension, long step);

}  // namespace deca
