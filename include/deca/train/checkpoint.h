// Checkpoints: a folder with the resolved config, the tokenizer, the weights
// (safetensors), the optimizer state, the RNG state, the trainer state and
// checksums.sha1 (the SHA-1 of each file, `sha1sum -c` format), written to a
// temporary folder and renamed into place. A run folder keeps them under
// checkpoints/, with the links `last` and `best`.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "deca/core/config.h"
#include "deca/data/tokenizer.h"
#include "deca/model/model.h"

namespace deca {


torch::Device parse_device(const std::string& name);

model::Vocabulary vocabulary_of(const Tokenizer& tokenizer);

// A checkpoint folder, or a run folder (then its best checkpoint, else its
// last); logs which checkpoint is used and why.
std::filesystem::path resolve_checkpoint(const std::filesystem::path& path);

// What makes a checkpoint folder unusable (a missing file, a checksum that
// differs), or nothing when it is complete.
std::optional<std::string> checkpoint_problem(const std::filesystem::path& dir);
// Throws DataError with checkpoint_problem().
void verify_checkpoint(const std::filesystem::path& dir);

// The step-NNNNNNNN folders of a checkpoints/ folder, oldest first.
std::vector<std::filesystem::path> checkpoint_folders(const std::filesystem::path& checkpoints_dir);

// The pieces of a checkpoint, each read with an error naming its file.
nlohmann::json read_trainer_state(const std::filesystem::path& dir);
void load_optimizer(torch::optim::Optimizer& optimizer, const std::filesystem::path& file, const torch::Device& device);
std::vector<torch::Tensor> load_rng_state(const std::filesystem::path& file);

struct LoadedModel {
  Config config;
  std::shared_ptr<const Tokenizer> tokenizer;
  model::Vocabulary vocab;
  std::shared_ptr<model::Seq2Seq> model;
  std::filesystem::path dir;
  long step = 0;
};

// Verifies the checkpoint and loads config, tokenizer and weights, the model on `device`, in eval mode.
LoadedModel load_checkpoint(const std::filesystem::path& path, const torch::Device& device);

// Writes a checkpoint folder atomically; `state` is the trainer state (JSON).
// Any failure (a full disk) removes the partial folder and throws Error naming
// the checkpoint; an existing folder of that name is only replaced when the new
// one is complete.
void write_checkpoint(const std::filesystem::path& dir, const Config& config, const Tokenizer& tokenizer, const model::Seq2Seq& model,
                      torch::optim::Optimizer* optimizer, const nlohmann::json& state);

// Points the link `name` (last, best) in `checkpoints_dir` at `target`, atomically.
void point_link(const std::filesystem::path& checkpoints_dir, const std::string& name, const std::filesystem::path& target);

}  // namespace deca
