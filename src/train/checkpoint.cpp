#include "deca/train/checkpoint.h"

#include <unistd.h>

#include <sstream>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/core/log.h"
#include "deca/core/sha1.h"
#include "deca/model/safetensors.h"

namespace fs = std::filesystem;

namespace deca {
namespace {

constexpr const char* kChecksums = "checksums.sha1";

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

torch::Device parse_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available())
      throw ConfigError("device " + name + " requested but CUDA is not available in this build or on this machine");
    return torch::Device(name);
  }
  throw ConfigError("unknown device \"" + name + "\" (expected cpu, cuda or cuda:N)");
}

model::Vocabulary vocabulary_of(const Tokenizer& t) {
  model::Vocabulary v;
  v.size = t.vocab_size();
  v.pad = t.pad_id();
  v.bos = t.bos_id();
  v.eos = t.eos_id();
  v.context_marker = t.encode("Context:");
  v.question_marker = t.encode("Question:");
  v.frame_inputs = t.scheme() != "pieces";
  v.word_marks.resize(static_cast<size_t>(v.size));
  for (int32_t id = 0; id < t.vocab_size(); ++id)
    v.word_marks[static_cast<size_t>(id)] = static_cast<uint8_t>((t.starts_word(id) ? 1 : 0) | (t.ends_word(id) ? 2 : 0));
  return v;
}

std::optional<std::string> checkpoint_problem(const fs::path& dir) {
  for (const char* f : {"config.json", "tokenizer.model", "model.safetensors", "trainer_state.json"})
    if (!fs::exists(dir / f)) return std::string("missing ") + f;
  if (!fs::exists(dir / kChecksums)) return std::nullopt;  // written before checksums existed: nothing to check
  std::string problem;
  for_each_line(dir / kChecksums, [&](std::string_view line, long n) {
    if (!problem.empty() || line.empty()) return;
    const size_t sep = line.find("  ");
    if (sep != 40) {
      problem = std::string(kChecksums) + " line " + std::to_string(n) + " is not \"<sha1>  <file>\"";
      return;
    }
    const std::string name(line.substr(42));
    if (!fs::exists(dir / name)) {
      problem = "missing " + name;
    } else if (sha1_hex(read_file(dir / name)) != line.substr(0, 40)) {
      problem = name + " is damaged (its SHA-1 differs from " + kChecksums + ")";
    }
  });
  if (problem.empty()) return std::nullopt;
  return problem;
}

void verify_checkpoint(const fs::path& dir) {
  if (auto p = checkpoint_problem(dir)) throw DataError("checkpoint " + dir.string() + " is not usable: " + *p);
}

fs::path resolve_checkpoint(const fs::path& path) {
  if (fs::exists(path / "model.safetensors")) {
    log::info("checkpoint {}", path.string());
    return path;
  }
  const fs::path links = path / "checkpoints";
  if (!fs::is_directory(links))
    throw ConfigError("no checkpoint at " + path.string() +
                      " (expected a checkpoint folder with model.safetensors, or a run folder with checkpoints/best or checkpoints/last)");
  for (const char* link : {"best", "last"}) {
    const fs::path p = links / link;
    if (fs::exists(p / "model.safetensors")) {
      const auto target = fs::canonical(p);
      log::info("checkpoint {} (the {} checkpoint of run {})", target.string(), link, path.string());
      return target;
    }
    if (fs::is_symlink(p))
      log::warn("{} points at {}, which is not a checkpoint; trying the next one", p.string(),
                fs::read_symlink(p).string());
    else if (std::string(link) == "best")
      log::info("{} has no best checkpoint (no validation yet); using the last one", path.string());
  }
  throw ConfigError("no checkpoint in run folder " + path.string() + " (checkpoints/best and checkpoints/last are missing)");
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

LoadedModel load_checkpoint(const fs::path& path, const torch::Device& device) {
  LoadedModel m;
  m.dir = resolve_checkpoint(path);
  verify_checkpoint(m.dir);
  m.config = load_config(m.dir / "config.json");
  m.tokenizer = Tokenizer::load(m.dir / "tokenizer.model");
  m.vocab = vocabulary_of(*m.tokenizer);
  m.model = model::make_model(m.config.model, m.vocab);
  model::load_safetensors(*m.model, m.dir / "model.safetensors");
  m.model->to(device);
  m.model->eval();
  m.step = read_trainer_state(m.dir).value("step", 0L);
  return m;
}

nlohmann::json read_trainer_state(const fs::path& dir) {
  const fs::path file = dir / "trainer_state.json";
  const std::string text = read_file(file);
  try {
    auto j = nlohmann::json::parse(text);
    if (!j.is_object()) throw DataError::at(file.string(), 0, "expected a JSON object");
    return j;
  } catch (const nlohmann::json::exception& e) {
    throw DataError::at(file.string(), 0, std::string("damaged trainer state (") + e.what() + ")");
  }
}

void load_optimizer(torch::optim::Optimizer& optimizer, const fs::path& file, const torch::Device& device) {
  try {
    torch::load(optimizer, file.string(), device);
  } catch (const c10::Error& e) {
    throw DataError::at(file.string(), 0, "cannot read the optimizer state: " + first_line(e.what()));
  }
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

void write_checkpoint(const fs::path& dir, const Config& config, const Tokenizer& tokenizer, const model::Seq2Seq& model,
                      torch::optim::Optimizer* optimizer, const nlohmann::json& state) {
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
    if (optimizer) put("optimizer.pt", torch_bytes(*optimizer));
    // The RNG state, so that dropout continues exactly after a resume.
    std::vector<torch::Tensor> rng;
    {
      auto gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      rng.push_back(gen.get_state());
    }
    put("rng.pt", torch_bytes(rng));
    put("trainer_state.json", state.dump(2) + "\n");
    std::string sums;
    for (const auto& [name, sha] : files) sums += sha + "  " + name + "\n";
    write_file_atomic(tmp / kChecksums, sums);  // last: a folder with it is complete
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
