#include "deca/infer/checkpoint.h"

#include <set>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/core/log.h"
#include "deca/core/sha1.h"
#include "deca/model/safetensors.h"

namespace fs = std::filesystem;

namespace deca {

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
    v.word_marks[static_cast<size_t>(id)] =
        static_cast<uint8_t>((t.starts_word(id) ? 1 : 0) | (t.ends_word(id) ? 2 : 0));
  return v;
}

std::optional<std::string> checkpoint_problem(const fs::path& dir) {
  for (const char* f : {"config.json", "tokenizer.model", "model.safetensors", "trainer_state.json"})
    if (!fs::exists(dir / f)) return std::string("missing ") + f;
  // The trainer writes checksums.sha1 last, over every file: without it, or
  // with a file it does not list, the folder is incomplete (a partial copy).
  if (!fs::exists(dir / kCheckpointChecksums))
    return std::string("missing ") + kCheckpointChecksums + " (an incomplete checkpoint, as a partial copy leaves)";
  std::string problem;
  std::set<std::string> listed;
  for_each_line(dir / kCheckpointChecksums, [&](std::string_view line, long n) {
    if (!problem.empty() || line.empty()) return;
    const size_t sep = line.find("  ");
    if (sep != 40) {
      problem = std::string(kCheckpointChecksums) + " line " + std::to_string(n) + " is not \"<sha1>  <file>\"";
      return;
    }
    const std::string name(line.substr(42));
    listed.insert(name);
    if (!fs::exists(dir / name)) {
      problem = "missing " + name;
    } else if (sha1_hex(read_file(dir / name)) != line.substr(0, 40)) {
      problem = name + " is damaged (its SHA-1 differs from " + kCheckpointChecksums + ")";
    }
  });
  if (problem.empty()) {
    std::set<std::string> present;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().filename() != kCheckpointChecksums) present.insert(e.path().filename().string());
    for (const auto& name : present)  // sorted: the same file named every time
      if (!listed.count(name)) {
        problem = name + " is not in " + kCheckpointChecksums + " (an incomplete checkpoint, as a partial copy leaves)";
        break;
      }
  }
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
                      " (expected a checkpoint folder with model.safetensors, or a run folder with checkpoints/best or "
                      "checkpoints/last)");
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
  throw ConfigError("no checkpoint in run folder " + path.string() +
                    " (checkpoints/best and checkpoints/last are missing)");
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

namespace {

LoadedModel load_checkpoint_folder(const fs::path& dir, const torch::Device& device) {
  LoadedModel m;
  m.dir = dir;
  verify_checkpoint(m.dir);
  m.config = load_config(m.dir / "config.json");
  auto& p = m.predictor;
  p.tokenizer = Tokenizer::load(m.dir / "tokenizer.model");
  p.vocab = vocabulary_of(*p.tokenizer);
  p.model = model::make_model(m.config.model, p.vocab);
  model::load_safetensors(*p.model, m.dir / "model.safetensors");
  p.model->to(device);
  p.model->eval();
  p.device = device;
  const auto state = read_trainer_state(m.dir);
  m.step = state.value("step", 0L);
  m.trained_tasks = m.config.all_tasks();  // checkpoints before --init-from existed
  if (const auto t = state.find("trained_tasks"); t != state.end() && t->is_array())
    m.trained_tasks = t->get<std::vector<std::string>>();
  if (const auto d = state.find("deca"); d != state.end() && d->is_object()) m.trained_by = *d;
  return m;
}

}  // namespace

LoadedModel load_checkpoint(const fs::path& path, const torch::Device& device) {
  // A run folder that is training may prune the checkpoint chosen while it is
  // read (a run that saves often and keeps few): the run's newest is taken again.
  const bool run_folder = !fs::exists(path / "model.safetensors");
  for (int attempt = 1;; ++attempt) {
    const fs::path dir = resolve_checkpoint(path);
    try {
      return load_checkpoint_folder(dir, device);
    } catch (const std::exception&) {
      const bool removed = !fs::exists(dir / "model.safetensors") || !fs::exists(dir / kCheckpointChecksums);
      if (!run_folder || !removed || attempt == 5) throw;
      log::info("checkpoint {} was removed while it was read (its run pruned it); taking the run's newest",
                dir.string());
    }
  }
}

}  // namespace deca
