// Multitask training from a config: the loop, validation, checkpoints and
// exact resume. The loop itself fits on one screen (Trainer::run); everything
// it needs is prepared in the constructor.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "deca/core/config.h"
#include "deca/core/launch.h"

namespace deca {

struct TrainerOptions {
  bool resume = false;     // continue from the newest complete checkpoint in <output>/checkpoints
  bool overwrite = false;  // start over in a run folder that holds an earlier run (deletes it)
  // A new run from this checkpoint's weights and tokenizer (a checkpoint
  // folder, or a run folder: its best, else its last), with the config's tasks
  // and schedule and a fresh optimizer. The architecture (model.type,
  // dimension, embedding_dim, rnn_layers, transformer_layers,
  // transformer_hidden, transformer_heads) is the checkpoint's, but for the
  // keys of config_keys or set_keys, which must then match it.
  std::filesystem::path init_from;
  // The keys the config file sets (config_file_keys); empty: none.
  std::vector<std::string> config_keys;
  // The config keys the command line set (--set, --steps, --data-root, ...):
  // on --resume these may differ from the run's own config; any other key
  // that would change what is trained is refused.
  std::vector<std::string> set_keys;
  // This process's place in a data-parallel run (one process by default) and
  // how the processes talk. Rank 0 alone writes the run folder, which every
  // rank must see (a shared filesystem across machines).
  Launch launch;
  DistOptions dist;
};

class Trainer {
 public:
  // Locks the run folder (a second trainer fails at once), checks the config
  // and the run folder, prepares data and model, and restores the newest
  // complete checkpoint with options.resume. Nothing in the run folder changes
  // before all of this has succeeded.
  Trainer(Config config, TrainerOptions options);
  ~Trainer();
  // Trains until training.steps. Returns 0 when done, 130 when stopped by
  // SIGINT/SIGTERM/SIGHUP after saving; throws on fatal errors (e.g. a run of NaN losses).
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The learning rate at 1-based step `step`.
double learning_rate(const TrainOptions& t, long dimension, long step);

}  // namespace deca
