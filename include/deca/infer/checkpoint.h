// Reading checkpoints. A checkpoint is a folder with the resolved config, the
// tokenizer, the weights (safetensors), the optimizer state, the RNG state, the
// trainer state and checksums.sha1 (the SHA-1 of each file, `sha1sum -c`
// format); a run folder keeps them under checkpoints/, with the links `last`
// and `best`. Training writes them (deca/train/checkpoint.h).
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "deca/core/config.h"
#include "deca/data/tokenizer.h"
#include "deca/model/model.h"

namespace deca {

// The file that lists each file's SHA-1; written last, so a folder with it is complete.
inline constexpr const char* kCheckpointChecksums = "checksums.sha1";

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

// The trainer state (JSON object), read with an error naming its file.
nlohmann::json read_trainer_state(const std::filesystem::path& dir);

// A model ready to answer: the network (in eval mode on `device`) with its tokenizer and vocabulary.
struct Predictor {
  std::shared_ptr<model::Seq2Seq> model;
  std::shared_ptr<const Tokenizer> tokenizer;
  model::Vocabulary vocab;
  torch::Device device{torch::kCPU};
};

struct LoadedModel {
  Config config;  // the one it was trained with
  Predictor predictor;
  std::filesystem::path dir;
  long step = 0;
  // The tasks its weights were trained on: its run's tasks and, for a run
  // started with --init-from, those of the checkpoint it started from.
  std::vector<std::string> trained_tasks;
  // The deca that trained it: {"version", "commit"} (empty for checkpoints
  // from before deca recorded it).
  nlohmann::json trained_by = nlohmann::json::object();
};

// Verifies the checkpoint and loads config, tokenizer and weights, the model on `device`, in eval mode.
LoadedModel load_checkpoint(const std::filesystem::path& path, const torch::Device& device);

}  // namespace deca
