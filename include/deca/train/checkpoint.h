// Writing checkpoints (the layout is in deca/infer/checkpoint.h): each folder
// written to a temporary folder and renamed into place; the run folder's
// step-NNNNNNNN folders and its links; the optimizer and RNG states that only
// training reads.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "deca/core/config.h"
#include "deca/data/tokenizer.h"
#include "deca/infer/checkpoint.h"
#include "deca/model/model.h"
#include "deca/train/adam.h"

namespace deca {

// The step-NNNNNNNN folders of a checkpoints/ folder, oldest first.
std::vector<std::filesystem::path> checkpoint_folders(const std::filesystem::path& checkpoints_dir);

// The random generator states, with an error naming the file.
std::vector<torch::Tensor> load_rng_state(const std::filesystem::path& file);

// Tensors to bytes and back (torch::save's format), e.g. to send random
// generator states between processes. `what` names the bytes in errors.
std::string tensors_to_bytes(const std::vector<torch::Tensor>& tensors);
std::vector<torch::Tensor> tensors_from_bytes(const std::string& bytes, const std::string& what);

// Writes a checkpoint folder atomically; `state` is the trainer state (JSON),
// `rng` the random generator states (rng.pt, see Trainer); the optimizer's
// state goes to optimizer.safetensors.
// Any failure (a full disk) removes the partial folder and throws Error naming
// the checkpoint; an existing folder of that name is only replaced when the new
// one is complete.
void write_checkpoint(const std::filesystem::path& dir, const Config& config, const Tokenizer& tokenizer,
                      const model::Seq2Seq& model, const Adam* optimizer, const nlohmann::json& state,
                      const std::vector<torch::Tensor>& rng);

// Points the link `name` (last, best) in `checkpoints_dir` at `target`, atomically.
void point_link(const std::filesystem::path& checkpoints_dir, const std::string& name,
                const std::filesystem::path& target);

}  // namespace deca
