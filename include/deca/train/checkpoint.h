// Checkpoints: a folder with the resolved config, the tokenizer, the weights
// (safetensors), the optimizer state, the RNG state and the trainer state,
// written to a temporary folder and renamed into place. A run folder keeps
// them under checkpoints/, with the links `last` and `best`.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <string>

#include "deca/core/config.h"
#include "deca/data/tokenizer.h"
#include "deca/model/model.h"

namespace deca {

namespace fs = std::filesystem;

torch::Device parse_device(const std::string& name);

model::Vocabulary vocabulary_of(const Tokenizer& tokenizer);

// A checkpoint folder, or a run folder (then its best checkpoint, else its last).
fs::path resolve_checkpoint(const fs::path& path);

struct LoadedModel {
  Config config;
  std::shared_ptr<const Tokenizer> tokenizer;
  model::Vocabulary vocab;
  std::shared_ptr<model::Seq2Seq> model;
  fs::path dir;
  long step = 0;
};

// Loads config, tokenizer and weights, the model on `device`, in eval mode.
LoadedModel load_checkpoint(const fs::path& path, const torch::Device& device);

// Writes a checkpoint folder atomically. `files` are copied in (tokenizer files);
// `state` is the trainer state (JSON).
void write_checkpoint(const fs::path& dir, const Config& config, const Tokenizer& tokenizer, const model::Seq2Seq& model,
                      torch::optim::Optimizer* optimizer, const nlohmann::json& state);

// Points the link `name` (last, best) in `checkpoints_dir` at `target`, atomically.
void point_link(const fs::path& checkpoints_dir, const std::string& name, const fs::path& target);

}  // namespace deca
