#include "deca/train/checkpoint.h"

#include <unistd.h>

#include <sstream>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/core/sha1.h"
#include "deca/model/safetensors.h"

namespace fs = std::filesystem;

namespace deca {
namespace {

// The first line of a LibTorch error (the rest is a C++ stack trace).
std::string first_line(const char* what) {
  std::string s(what);
  return s.substr(0, s.find('\n'));
}

// torch::save into memory: straight to a file, a full disk aborts the process
// (an exception inside LibTorch's writer); deca writes the bytes with checked writes.
template <class T>
std::string torch_bytes(const T& value) {
  std::ostringstream bytes;
  torch::save(value, bytes);
  return std::move(bytes).str();
}

}  // namespace

std::string tensors_to_bytes(const std::vector<torch::Tensor>& tensors) { return torch_bytes(tensors); }

std::vector<torch::Tensor> tensors_from_bytes(const std::string& bytes, const std::string& what) {
  std::vector<torch::Tensor> tensors;
  std::istringstream in(bytes);
  try {
    torch::load(tensors, in);
  } catch (const c10::Error& e) {
    throw Error("cannot read " + what + ": " + first_line(e.what()));
  }
  return tensors;
}

std::vector<fs::path> checkpoint_folders(const fs::path& checkpoints_dir) {
  std::vector<fs::path> dirs;
  if (!fs::is_directory(checkpoints_dir)) return dirs;
  for (const auto& e : fs::directory_iterator(checkpoints_dir)) {
    const auto name = e.path().filename().string();
    if (e.is_directory() && !e.is_symlink() && name.rfind("step-", 0) == 0) dirs.push_back(e.path());
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

std::vector<torch::Tensor> load_rng_state(const fs::path& file) {
  std::vector<torch::Tensor> rng;
  try {
    torch::load(rng, file.string());
  } catch (const c10::Error& e) {
    throw DataError::at(file.string(), 0, "cannot read the random generator state: " + first_line(e.what()));
  }
  if (rng.empty()) throw DataError::at(file.string(), 0, "holds no random generator state");
  return rng;
}

void write_checkpoint(const fs::path& dir, const Config& config, const Tokenizer& tokenizer,
                      const model::Seq2Seq& model, const Adam* optimizer, const nlohmann::json& state,
                      const std::vector<torch::Tensor>& rng) {
  const fs::path tmp = dir.parent_path() / (".tmp-" + dir.filename().string() + "-" + std::to_string(::getpid()));
  try {
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    std::vector<std::pair<std::string, std::string>> files;  // name, SHA-1
    auto put = [&](const std::string& name, const std::string& bytes) {
      write_file_atomic(tmp / name, bytes);
      files.emplace_back(name, sha1_hex(bytes));
    };
    put("config.json", config_to_json(config).dump(2) + "\n");
    put("tokenizer.model", read_file(tokenizer.model_file()));
    fs::path side = tokenizer.model_file();
    side.replace_extension(".json");
    if (fs::exists(side)) put("tokenizer.json", read_file(side));
    put("model.safetensors", model::encode_safetensors(model, {{"format", "pt"}, {"model", config.model.type}}));
    if (optimizer) put("optimizer.safetensors", optimizer->to_bytes());
    put("rng.pt", torch_bytes(rng));
    put("trainer_state.json", state.dump(2) + "\n");
    std::string sums;
    for (const auto& [name, sha] : files) sums += sha + "  " + name + "\n";
    write_file_atomic(tmp / kCheckpointChecksums, sums);  // last: a folder with it is complete
    fs::remove_all(dir);
    fs::rename(tmp, dir);
  } catch (const std::exception& e) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    throw Error("cannot save checkpoint " + dir.string() + ": " + first_line(e.what()));
  }
}

void point_link(const fs::path& checkpoints_dir, const std::string& name, const fs::path& target) {
  const fs::path link = checkpoints_dir / name;
  const fs::path tmp = checkpoints_dir / (".tmp-link-" + name);
  fs::remove(tmp);
  fs::create_directory_symlink(target.filename(), tmp);
  fs::rename(tmp, link);
}

}  // namespace deca
