#include "deca/train/checkpoint.h"

#include <unistd.h>

#include <random>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/model/safetensors.h"

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
  return v;
}

fs::path resolve_checkpoint(const fs::path& path) {
  if (fs::exists(path / "model.safetensors")) return path;
  for (const char* link : {"best", "last"}) {
    const fs::path p = path / "checkpoints" / link;
    if (fs::exists(p / "model.safetensors")) return fs::canonical(p);
  }
  throw ConfigError("no checkpoint at " + path.string() +
                    " (expected a checkpoint folder with model.safetensors, or a run folder with checkpoints/best or checkpoints/last)");
}

LoadedModel load_checkpoint(const fs::path& path, const torch::Device& device) {
  LoadedModel m;
  m.dir = resolve_checkpoint(path);
  m.config = load_config(m.dir / "config.json");
  m.tokenizer = Tokenizer::load(m.dir / "tokenizer.model");
  m.vocab = vocabulary_of(*m.tokenizer);
  m.model = model::make_model(m.config.model, m.vocab);
  model::load_safetensors(*m.model, m.dir / "model.safetensors");
  m.model->to(device);
  m.model->eval();
  if (fs::exists(m.dir / "trainer_state.json")) {
    const auto state = nlohmann::json::parse(read_file(m.dir / "trainer_state.json"));
    m.step = state.value("step", 0L);
  }
  return m;
}

void write_checkpoint(const fs::path& dir, const Config& config, const Tokenizer& tokenizer, const model::Seq2Seq& model,
                      torch::optim::Optimizer* optimizer, const nlohmann::json& state) {
  const fs::path tmp = dir.parent_path() / (".tmp-" + dir.filename().string() + "-" + std::to_string(::getpid()));
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  write_file_atomic(tmp / "config.json", config_to_json(config).dump(2) + "\n");
  fs::copy_file(tokenizer.model_file(), tmp / "tokenizer.model");
  fs::path side = tokenizer.model_file();
  side.replace_extension(".json");
  if (fs::exists(side)) fs::copy_file(side, tmp / "tokenizer.json");
  model::save_safetensors(model, tmp / "model.safetensors", {{"format", "pt"}, {"model", config.model.type}});
  if (optimizer) torch::save(*optimizer, (tmp / "optimizer.pt").string());
  // The RNG state, so that dropout continues exactly after a resume.
  std::vector<torch::Tensor> rng;
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    rng.push_back(gen.get_state());
  }
  torch::save(rng, (tmp / "rng.pt").string());
  write_file_atomic(tmp / "trainer_state.json", state.dump(2) + "\n");
  fs::remove_all(dir);
  fs::rename(tmp, dir);
}

void point_link(const fs::path& checkpoints_dir, const std::string& name, const fs::path& target) {
  const fs::path link = checkpoints_dir / name;
  const fs::path tmp = checkpoints_dir / (".tmp-link-" + name);
  fs::remove(tmp);
  fs::create_directory_symlink(target.filename(), tmp);
  fs::rename(tmp, link);
}

}  // namespace deca
