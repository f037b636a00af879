#include "deca/train/trainer.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <tuple>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/core/log.h"
#include "deca/core/sha1.h"
#include "deca/core/stop.h"
#include "deca/core/version.h"
#include "deca/data/batching.h"
#include "deca/data/mixing.h"
#include "deca/data/splits.h"
#include "deca/eval/files.h"
#include "deca/infer/predict.h"
#include "deca/model/model.h"
#include "deca/model/parallel.h"
#include "deca/model/precision.h"
#include "deca/model/safetensors.h"
#include "deca/text/unicode.h"
#include "deca/train/adam.h"
#include "deca/train/checkpoint.h"
#include "deca/train/data_parallel.h"
#include "deca/train/distributed.h"
#include "deca/train/embeddings.h"
#include "deca/train/observers.h"
#include "deca/train/run_folder.h"
#include "deca/train/training_step.h"

namespace fs = std::filesystem;

namespace deca {
namespace {

std::string step_name(long step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step-%08ld", step);
  return buf;
}

// Every leaf of a JSON value by its key path ("model.dropout", "curriculum.0.tasks.1").
void flatten(const nlohmann::json& j, const std::string& path, std::map<std::string, std::string>& out) {
  if (j.is_object() && !j.empty()) {
    for (const auto& [k, v] : j.items()) flatten(v, path.empty() ? k : path + "." + k, out);
  } else if (j.is_array() && !j.empty()) {
    for (size_t i = 0; i < j.size(); ++i) flatten(j[i], path + "." + std::to_string(i), out);
  } else {
    out[path] = j.dump();
  }
}

// The config keys whose values differ between two configs, with both values
// ("(none)" where a key is missing), in key order.
struct KeyDifference {
  std::string key, a, b;
};
std::vector<KeyDifference> differing_keys(const nlohmann::json& a, const nlohmann::json& b) {
  std::map<std::string, std::string> in_a, in_b;
  flatten(a, "", in_a);
  flatten(b, "", in_b);
  std::set<std::string> keys;
  for (const auto& [k, v] : in_a) keys.insert(k);
  for (const auto& [k, v] : in_b) keys.insert(k);
  std::vector<KeyDifference> out;
  for (const auto& key : keys) {
    const auto x = in_a.count(key) ? in_a.at(key) : "(none)", y = in_b.count(key) ? in_b.at(key) : "(none)";
    if (x != y) out.push_back({key, x, y});
  }
  return out;
}

// Keys that say how and where a run runs, not what it trains, or that only
// initialise a new model (a resumed one loads its weights): they may change
// when a run is resumed.
bool may_change_on_resume(const std::string& key) {
  static const std::set<std::string> kKeys = {"output",
                                              "data.data_root",
                                              "data.cache_dir",
                                              "data.skip_bad_records",
                                              "training.steps",
                                              "training.threads",
                                              "training.device",
                                              "training.precision",
                                              "training.optimizer_state",
                                              "training.log_every",
                                              "training.val_every",
                                              "training.save_every",
                                              "training.keep_last",
                                              "training.val_max_examples",
                                              "training.save_val_predictions",
                                              "training.max_bad_steps",
                                              "training.best_metric",
                                              "training.patience",
                                              "training.max_time",
                                              "training.accumulate",
                                              "batching.eval_max_tokens",
                                              "model.max_output_length",
                                              "model.coattention_init",
                                              "model.embedding_init_std",
                                              "model.embeddings_file"};
  return kKeys.count(key) > 0 || key.rfind("training.val_tasks", 0) == 0;
}

// --resume continues the run the checkpoint holds: a config that would train
// something else (another dropout, rate, batch size or task mix) is refused,
// naming each key, unless the command line changed the key deliberately
// (--set, --steps, ...; TrainerOptions::set_keys), which is logged.
// Where the run's data lives (data_root, cache_dir) is the run's own unless
// the command line changes it: a --config written for another machine or
// folder does not move a resumed run's data (those keys are taken back).
void check_resume_config(Config& config, const fs::path& checkpoint, const std::vector<std::string>& set_keys) {
  const fs::path file = checkpoint / "config.json";
  const Config run = load_config(file);
  auto set_on_command_line = [&](const std::string& key) {
    return std::find(set_keys.begin(), set_keys.end(), key) != set_keys.end();
  };
  for (auto [key, mine, theirs] : {std::tuple{"data.data_root", &config.data.data_root, &run.data.data_root},
                                   {"data.cache_dir", &config.data.cache_dir, &run.data.cache_dir}}) {
    if (*mine == *theirs || set_on_command_line(key)) continue;
    log::info("--resume: {} stays the run's {} (the config says {}; give it on the command line to change it)", key,
              nlohmann::json(*theirs).dump(), nlohmann::json(*mine).dump());
    *mine = *theirs;
  }
  auto deliberate = [&](const std::string& key) {
    for (const auto& s : set_keys)
      if (key == s || key.rfind(s + ".", 0) == 0) return true;
    return false;
  };
  std::string refused;
  for (const auto& [key, a, b] : differing_keys(config_to_json(run), config_to_json(config))) {
    if (may_change_on_resume(key)) continue;
    if (deliberate(key)) {
      log::info("--resume: {} changes from {} to {} (set on the command line)", key, a, b);
      continue;
    }
    refused += format("{}{} (the run: {}, now: {})", refused.empty() ? "" : "; ", key, a, b);
  }
  if (!refused.empty())
    throw ConfigError("--resume: the config differs from the run's own (" + file.string() + ") in what it trains: " +
                      refused + ". Resume without --config to continue with the run's own config, or give each " +
                      "change with --set to make it deliberately");
}

// The processes of a run train one model: rank 0 compares every rank's
// resolved config with its own (all but where each machine keeps the data and
// how many threads it gives) and names the keys that differ, before the first
// collective (a different width used to abort a rank inside Gloo, a different
// task list or rate to train silently wrong).
void check_ranks_agree(Communicator& comm, const Config& config) {
  if (comm.world_size() == 1) return;
  static const std::set<std::string> kPerMachine = {"data.data_root", "data.cache_dir", "training.threads",
                                                    "training.device"};
  const auto all = comm.gather(config_to_json(config).dump(), "the comparison of the ranks' configs");
  comm.from_main(
      [&] {
        const auto mine = nlohmann::json::parse(all[0]);
        std::string differences;
        for (size_t r = 1; r < all.size(); ++r)
          for (const auto& [key, a, b] : differing_keys(mine, nlohmann::json::parse(all[r])))
            if (!kPerMachine.count(key))
              differences += format("{}rank {}: {} is {} (rank 0: {})", differences.empty() ? "" : "; ", r, key, b, a);
        if (!differences.empty())
          throw ConfigError("the ranks were started with different configs: " + differences +
                            ". Start every rank with the same config and options");
        return std::string();
      },
      "the comparison of the ranks' configs");
}

// The run records where its data lives as absolute paths: its checkpoints
// find their data from any folder (deca-eval, deca-predict, --resume).
void make_data_paths_absolute(Config& config) {
  for (auto* path : {&config.data.data_root, &config.data.cache_dir})
    if (!path->empty()) *path = fs::absolute(*path).lexically_normal().string();
}

// --resume continues with the tokenizer the checkpoint's weights were
// trained with: the files the run would load (the run folder's, or
// tokenizer.model's) must equal the checkpoint's checksummed copies.
void check_resume_tokenizer(const fs::path& model_file, const fs::path& checkpoint) {
  fs::path side = model_file;
  side.replace_extension(".json");
  for (const auto& [mine, theirs] :
       {std::pair{model_file, checkpoint / "tokenizer.model"}, {side, checkpoint / "tokenizer.json"}}) {
    const bool has_mine = fs::exists(mine), has_theirs = fs::exists(theirs);
    if (!has_theirs && !has_mine) continue;
    if (has_mine && has_theirs && read_file(mine) == read_file(theirs)) continue;
    if (!has_theirs)
      throw ConfigError("--resume: checkpoint " + checkpoint.string() + " was trained without a " +
                        theirs.filename().string() + ", but " + mine.string() +
                        " is there; move it away or start a new run");
    throw ConfigError("--resume: " + mine.string() + (has_mine ? " differs from" : " is missing, unlike") +
                      " the checkpoint's copy " + theirs.string() +
                      ", which its weights were trained with; restore it (cp " + theirs.string() + " " + mine.string() +
                      ") or start a new run");
  }
}

// The random generator states a rank saves: the CPU generator's (dropout on
// the CPU, and everything else), and its GPU's when it trains on one.
std::vector<torch::Tensor> rng_states(const torch::Device& device) {
  std::vector<torch::Tensor> states;
  auto save = [&](at::Generator gen) {
    std::lock_guard<std::mutex> lock(gen.mutex());
    states.push_back(gen.get_state());
  };
  save(at::detail::getDefaultCPUGenerator());
  if (device.is_cuda()) save(at::globalContext().defaultGenerator(device));
  return states;
}

void set_rng_states(const torch::Device& device, const std::vector<torch::Tensor>& states) {
  auto set = [&](at::Generator gen, const torch::Tensor& state) {
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state);
  };
  set(at::detail::getDefaultCPUGenerator(), states.at(0));
  if (device.is_cuda() && states.size() > 1) set(at::globalContext().defaultGenerator(device), states.at(1));
}

// Whether `selector` (a part, model::part_of, or a top-level module's name)
// selects the parameter `name`.
bool selects(const std::string& selector, const std::string& name) {
  return model::part_of(name) == selector || name.substr(0, name.find('.')) == selector;
}

// Checks that every selector of `key` selects some parameter of `net`.
void check_selectors(const std::vector<std::string>& selectors, const std::string& key, const model::Seq2Seq& net) {
  std::set<std::string> known = {"embeddings", "encoder", "decoder", "output"};
  for (const auto& p : net.named_parameters(true)) known.insert(p.key().substr(0, p.key().find('.')));
  for (const auto& s : selectors) {
    if (known.count(s)) continue;
    std::string names;
    for (const auto& k : known) names += (names.empty() ? "" : ", ") + k;
    throw ConfigError("config key \"" + key + "\": \"" + s + "\" is no part of the model (one of: " + names + ")");
  }
}

// Where an --init-from run started: the checkpoint, its step and weights'
// SHA-1, and the tasks the weights were trained on (its own origin's too).
nlohmann::json init_origin(const fs::path& checkpoint) {
  const auto state = read_trainer_state(checkpoint);
  const Config trained = load_config(checkpoint / "config.json");
  nlohmann::json tasks =
      state.contains("trained_tasks") ? state.at("trained_tasks") : nlohmann::json(trained.all_tasks());
  return {{"checkpoint", fs::canonical(checkpoint).string()},
          {"step", state.value("step", 0L)},
          {"model_sha1", sha1_hex(read_file(checkpoint / "model.safetensors"))},
          {"trained_tasks", tasks},
          {"from", state.contains("init_from") ? state.at("init_from") : nlohmann::json()}};
}

// --init-from: the architecture keys that neither the config file nor the
// command line set come from the checkpoint's config (as HF's
// from_pretrained and OpenNMT's -train_from take them); the log says which.
void adopt_architecture(Config& config, const fs::path& checkpoint, const TrainerOptions& options) {
  static const std::array<const char*, 7> kArchitecture = {"type",
                                                           "dimension",
                                                           "embedding_dim",
                                                           "rnn_layers",
                                                           "transformer_layers",
                                                           "transformer_hidden",
                                                           "transformer_heads"};
  auto set = [&](const std::string& key) {
    return std::count(options.config_keys.begin(), options.config_keys.end(), key) > 0 ||
           std::count(options.set_keys.begin(), options.set_keys.end(), key) > 0;
  };
  nlohmann::json mine = nlohmann::json::parse(config_to_json(config).dump());
  const auto theirs = config_to_json(load_config(checkpoint / "config.json"));
  std::string adopted, kept;
  for (const char* name : kArchitecture) {
    if (set(std::string("model.") + name)) {
      kept += format("{}{} {}", kept.empty() ? "" : ", ", name, mine["model"][name].dump());
      continue;
    }
    mine["model"][name] = theirs["model"][name];
    adopted += format("{}{} {}", adopted.empty() ? "" : ", ", name, mine["model"][name].dump());
  }
  config = config_from_json(mine);
  log::info("--init-from: the architecture from the checkpoint{}{}{}",
            adopted.empty() ? ": none" : " (" + adopted + ")", kept.empty() ? "" : "; from the config: ", kept);
}

}  // namespace

double learning_rate(const TrainOptions& t, long dimension, long step) {
  const double i = static_cast<double>(std::max(1L, step));
  if (t.lr_schedule == "transformer")
    return 1.0 / std::sqrt(static_cast<double>(dimension)) * std::min(1.0 / std::sqrt(i), i / std::pow(t.warmup, 1.5));
  if (t.lr_schedule == "linear") {
    if (t.warmup > 0 && i <= t.warmup) return t.lr * i / static_cast<double>(t.warmup);
    const double rest = static_cast<double>(std::max(1L, t.steps - t.warmup));
    return t.lr * std::max(0.0, 1.0 - (i - static_cast<double>(t.warmup)) / rest);
  }
  return t.lr;
}

struct Trainer::Impl {
  Config config;
  TrainerOptions options;
  fs::path run_dir, checkpoints_dir;
  std::unique_ptr<RunFolder>
      folder;  // rank 0: the folder's lock, held for the trainer's life, and the run --overwrite set aside
  torch::Device device{torch::kCPU};
  std::unique_ptr<Communicator> comm;
  std::shared_ptr<const Tokenizer> tokenizer;
  model::Vocabulary vocab;
  std::vector<std::string> tasks, val_tasks;
  std::vector<TaskSplit> train, validation;
  std::vector<std::unique_ptr<TrainStream>> streams;
  std::vector<StreamPosition> positions;
  std::unique_ptr<TaskMixer> mixer;
  std::shared_ptr<model::Seq2Seq> net;
  std::unique_ptr<Adam> optimizer;
  std::unique_ptr<GradientExchange> exchange;  // several processes: the gradients and step totals, summed
  std::unique_ptr<TrainingStep> training_step;
  std::unique_ptr<MetricsLog> metrics;  // rank 0

  long step = 0;  // steps done
  // --init-from: the checkpoint the run started from (init_origin), carried by every checkpoint.
  nlohmann::json origin;
  BadSteps bad;
  long unconfirmed = 0;  // the newest checkpoint's step, until a step has used its weights (then older ones are pruned)
  bool validation_pending = false;  // the validation of `step` was stopped by a signal: a resume runs it first
  BestCheckpoint best;
  double elapsed = 0;  // seconds of training, this process and the ones it resumes
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();  // training.max_time's clock

  bool single() const { return comm->world_size() == 1; }

  nlohmann::json state_json(size_t rng_per_rank) const {
    nlohmann::json pos = nlohmann::json::object();
    for (size_t k = 0; k < tasks.size(); ++k)
      pos[tasks[k]] = {{"epoch", positions[k].epoch}, {"batch", positions[k].batch}};
    return {{"step", step},
            {"phase", mixer->at(std::max(1L, step)).phase},
            {"positions", pos},
            {"best", {{"metric", best.metric}, {"value", best.value}, {"step", best.step}}},
            {"bad_steps", bad.total},
            {"consecutive_bad_steps", bad.consecutive},
            {"validation_pending", validation_pending},
            {"elapsed_seconds", elapsed},
            {"world_size", comm->world_size()},
            {"rng_per_rank", rng_per_rank},
            {"trained_tasks", trained_tasks()},
            {"init_from", origin},
            {"deca", {{"version", version()}, {"commit", build_commit()}}}};
  }

  // The tasks the weights have learnt: this run's and, after --init-from, the origin's.
  std::vector<std::string> trained_tasks() const {
    std::vector<std::string> out = tasks;
    if (origin.is_object())
      for (const auto& t : origin.at("trained_tasks"))
        if (std::find(out.begin(), out.end(), t.get<std::string>()) == out.end()) out.push_back(t.get<std::string>());
    return out;
  }

  // Every rank calls it; rank 0 writes the checkpoint with every rank's random states.
  void save(const char* why) {
    stop::SaveGuard saving;  // a second stop signal waits for the checkpoint
    std::vector<torch::Tensor> rng = rng_states(device);
    const size_t per_rank = rng.size();
    if (!single()) {
      const auto all = comm->gather(tensors_to_bytes(rng), "saving the checkpoint of step " + std::to_string(step));
      if (!comm->main()) return;
      rng.clear();
      for (size_t r = 0; r < all.size(); ++r)
        for (auto& t : tensors_from_bytes(all[r], "rank " + std::to_string(r) + "'s random states")) rng.push_back(t);
    }
    const fs::path dir = checkpoints_dir / step_name(step);
    write_checkpoint(dir, config, *tokenizer, *net, optimizer.get(), state_json(per_rank), rng);
    point_link(checkpoints_dir, "last", dir);
    if (best.step == step) point_link(checkpoints_dir, "best", dir);
    unconfirmed = step;
    deca::log::info("saved checkpoint {} ({})", dir.string(), why);
    folder->checkpoint_saved();
  }

  // Keeps the newest keep_last checkpoints and the best one. Called once the
  // newest checkpoint's weights gave a finite loss (the next step was
  // applied), so that a run that diverges right after a save keeps the
  // checkpoints before it.
  void prune() {
    unconfirmed = 0;
    const auto dirs = checkpoint_folders(checkpoints_dir);
    const std::string best_name = best.step > 0 ? step_name(best.step) : "";
    long keep = config.training.keep_last;
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
      if (it->filename() == best_name) continue;
      if (keep-- > 0) continue;
      fs::remove_all(*it);
    }
  }

  // max_bad_steps skipped steps in a row: the weights of the step before them
  // gave non-finite losses. Checkpoints from that step on are set aside
  // (diverged-step-N), `last` points to the newest one before it, and the run stops.
  [[noreturn]] void stop_diverged(long at_step) {
    const long from = bad.streak_start - 1;
    std::string good = "none (no checkpoint before step " + std::to_string(from) + ")";
    if (comm->main()) {
      for (const auto& d : checkpoint_folders(checkpoints_dir))
        if (std::stol(d.filename().string().substr(5)) >= from)
          log::warn("set {} aside as {} (its weights gave non-finite losses)", d.string(),
                    set_checkpoint_aside(d, "diverged").string());
      const auto dirs = checkpoint_folders(checkpoints_dir);
      std::error_code ignored;
      if (dirs.empty()) {
        fs::remove(checkpoints_dir / "last", ignored);
      } else {
        point_link(checkpoints_dir, "last", dirs.back());
        good = (checkpoints_dir / "last").string() + " (" + dirs.back().filename().string() + ")";
      }
      if (fs::is_symlink(checkpoints_dir / "best") && !fs::exists(checkpoints_dir / "best"))
        fs::remove(checkpoints_dir / "best", ignored);
    }
    throw Error(
        format("{} non-finite losses in a row at step {}; stopping. The weights of step {} gave them; the last "
               "good checkpoint is {}",
               bad.consecutive, at_step, from, good));
  }

  // The checkpoint --resume continues from: the newest complete one. Newer
  // damaged ones are reported (and set aside once the resume has succeeded).
  fs::path resume_checkpoint(std::vector<fs::path>& damaged) const {
    const auto dirs = checkpoint_folders(checkpoints_dir);
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
      if (auto problem = checkpoint_problem(*it)) {
        deca::log::warn("checkpoint {} is not usable ({}); trying the one before", it->string(), *problem);
        damaged.push_back(*it);
        continue;
      }
      return *it;
    }
    throw ConfigError("--resume: no complete checkpoint in " + checkpoints_dir.string() +
                      (dirs.empty() ? "" : " (" + std::to_string(dirs.size()) + " damaged)") +
                      "; start a new run without --resume");
  }

  // The tokenizer and the data of every task, through the cache. Rank 0 does
  // it first (training the tokenizer, filling the cache); the others then read.
  void load_data() {
    tokenizer = prepare_tokenizer(config, tasks, run_dir / "tokenizer.model");
    vocab = vocabulary_of(*tokenizer);
    const fs::path cache = config.data.cache_dir.empty() ? run_dir / "cache" : fs::path(config.data.cache_dir);
    train = load_splits(config, tasks, Split::Train, *tokenizer, cache);
    if (config.training.val_every > 0) {
      // Validation reads as evaluation does, limited to the run's data.subsample
      // and training.val_max_examples (the smaller when both are set).
      EvalRead read{0, cache};
      for (long limit : {config.data.subsample, config.training.val_max_examples})
        if (limit > 0 && (read.max_examples == 0 || limit < read.max_examples)) read.max_examples = limit;
      for (const auto& name : val_tasks) {
        validation.push_back(
            read_eval_split(config, find_task(name, config.data.data_root), Split::Validation, *tokenizer, read));
        log::info("{} validation: {} examples", name, validation.back().examples.size());
      }
    }
  }

  void restore(const fs::path& dir) {
    const auto s = read_trainer_state(dir);
    const fs::path state_file = dir / "trainer_state.json";
    long saved_world = 1;
    size_t rng_per_rank = 1;
    try {
      // The positions first: a changed task list is a config problem, not damage.
      const auto& pos = s.at("positions");
      for (size_t k = 0; k < tasks.size(); ++k) {
        if (!pos.contains(tasks[k])) {
          std::string trained_on;
          for (const auto& [name, p] : pos.items()) trained_on += (trained_on.empty() ? "" : ", ") + name;
          throw ConfigError("--resume: the config trains task " + tasks[k] + ", but checkpoint " + dir.string() +
                            " was trained on " + trained_on + "; resume with the run's own config (" +
                            (run_dir / "config.json").string() + ") or start a new run");
        }
        const auto& p = pos.at(tasks[k]);
        positions[k] = {p.at("epoch").get<uint64_t>(), p.at("batch").get<uint64_t>()};
      }
      step = s.at("step").get<long>();
      bad.total = s.value("bad_steps", 0L);
      bad.consecutive = s.value("consecutive_bad_steps", 0L);
      bad.streak_start = bad.consecutive > 0 ? step - bad.consecutive + 1 : 0;
      bad.last_applied = bad.consecutive > 0 ? bad.streak_start - 1 : step;
      elapsed = s.value("elapsed_seconds", 0.0);
      validation_pending = s.value("validation_pending", false);
      const auto& value = s.at("best").at("value");  // null when nothing was validated yet
      best.value = value.is_number() ? value.get<double>() : -std::numeric_limits<double>::infinity();
      best.step = s.at("best").value("step", 0L);
      saved_world = s.value("world_size", 1L);
      if (s.contains("init_from")) origin = s.at("init_from");
      rng_per_rank = s.value("rng_per_rank", size_t{1});
    } catch (const nlohmann::json::exception& e) {
      throw DataError::at(state_file.string(), 0, std::string("damaged trainer state (") + e.what() + ")");
    }
    model::load_safetensors(*net, dir / "model.safetensors");
    net->to(device);
    // optimizer.pt: checkpoints of deca before its own Adam (torch::optim's format).
    optimizer->load(fs::exists(dir / "optimizer.safetensors") ? dir / "optimizer.safetensors" : dir / "optimizer.pt",
                    device);
    const fs::path rng_file = dir / "rng.pt";
    const auto rng = load_rng_state(rng_file);
    if (saved_world < 1 || rng_per_rank < 1 || rng.size() != static_cast<size_t>(saved_world) * rng_per_rank)
      throw DataError::at(rng_file.string(), 0,
                          "holds " + std::to_string(rng.size()) + " random generator states, expected " +
                              std::to_string(saved_world) + " ranks x " + std::to_string(rng_per_rank));
    if (saved_world != comm->world_size() && comm->main())
      log::warn(
          "resuming a run of {} processes with {}: the data stream and the updates continue unchanged; the "
          "dropout of ranks {} on starts from new random states",
          saved_world, comm->world_size(), std::min<long>(saved_world, comm->world_size()));
    if (comm->rank() < saved_world) {
      const auto first = rng.begin() + static_cast<long>(static_cast<size_t>(comm->rank()) * rng_per_rank);
      try {
        set_rng_states(device, {first, first + static_cast<long>(rng_per_rank)});
      } catch (const c10::Error& e) {
        throw DataError::at(rng_file.string(), 0, "not a random generator state of this device");
      }
    }
    deca::log::info("resumed from {} at step {}", dir.string(), step);
  }

  // A step whose loss and skip flag are still on the device.
  struct PendingStep {
    StepOutcome outcome;
    torch::Tensor loss, applied;  // 0-dim
  };
  std::vector<PendingStep> pending;
  bool stop_agreed = false;  // several processes: the last step's all-reduce carried a stop request

  // One optimizer step (training_step.h) on the next batch of the task the
  // curriculum picks; a non-finite loss or gradient skips the update. Several
  // processes split the batch: each takes every world_size-th example
  // (prepare) and the gradients are summed over the ranks (data_parallel.h).
  // Nothing waits for the device (one process): the outcome joins `pending`.
  void train_step() {
    const auto start = std::chrono::steady_clock::now();
    const auto& t = config.training;
    StepOutcome s;
    s.step = step + 1;
    PreparedStep p = take_prepared(s.step);
    positions[p.task] = p.after;
    if (s.step < t.steps) prefetch(s.step + 1);  // while this step computes
    s.task = tasks[p.task];
    s.phase = p.phase;
    s.examples = static_cast<long>(p.rows);
    s.lr = learning_rate(t, config.model.dimension, s.step);
    auto o = training_step->run(p.parts, p.targets, s.step, s.lr);
    s.tokens = o.input_tokens;
    s.sync_seconds = o.sync_seconds;
    s.stop = stop_agreed = o.stop;
    step = s.step;
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    elapsed += s.seconds;
    s.elapsed = elapsed;
    pending.push_back({std::move(s), o.loss.detach(), o.applied});
  }

  // The pending steps' outcomes, read from the device in one copy (the wait
  // counts as the last step's time).
  std::vector<StepOutcome> take_outcomes() {
    std::vector<StepOutcome> out;
    if (pending.empty()) return out;
    const auto start = std::chrono::steady_clock::now();
    std::vector<torch::Tensor> values;
    for (const auto& p : pending) {
      values.push_back(p.loss.reshape({}).to(torch::kFloat64));
      values.push_back(p.applied.to(torch::kFloat64));
    }
    const auto host = torch::stack(values).to(torch::kCPU);
    const double* v = host.data_ptr<double>();
    for (size_t i = 0; i < pending.size(); ++i) {
      out.push_back(std::move(pending[i].outcome));
      out.back().loss = v[2 * i];
      out.back().applied = v[2 * i + 1] > 0;
    }
    pending.clear();
    const double wait = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    out.back().seconds += wait;
    elapsed += wait;
    out.back().elapsed = elapsed;
    return out;
  }

  // A step's batch, ready to train on: the task the curriculum picks, this
  // rank's share of the batch as tensors on the device (in training.accumulate
  // micro-batches), and the task's stream position after it. A pure function
  // of the step and the positions, so it can be made ahead on another thread.
  struct PreparedStep {
    long step = 0, phase = 0;
    size_t task = 0, rows = 0;  // rows: of the whole batch (all ranks)
    StreamPosition after;
    std::vector<model::Batch> parts;  // empty: no rows for this rank
    long targets = 0;                 // target tokens of the whole batch
  };
  // Declared after everything prepare() reads, so that it is destroyed (and
  // its thread joined) before them.
  std::future<PreparedStep> next_step;

  PreparedStep prepare(long at_step, std::vector<StreamPosition> from) const {
    PreparedStep p;
    p.step = at_step;
    const auto pick = mixer->at(at_step);
    p.task = pick.task;
    p.phase = static_cast<long>(pick.phase);
    p.after = from[pick.task];
    const BatchRows all = streams[pick.task]->next(p.after);
    const auto& data = train[pick.task].encoded;
    p.rows = all.size();
    for (uint32_t r : all) p.targets += data.answer_len(r) + 1;
    // Part j of rank r: every (world_size * accumulate)-th row from row
    // r + j * world_size (one part of one process: the batch).
    const size_t ranks = static_cast<size_t>(comm->world_size());
    const size_t stride = ranks * static_cast<size_t>(config.training.accumulate);
    for (size_t first = static_cast<size_t>(comm->rank()); first < std::min(stride, all.size()); first += ranks) {
      BatchRows part;
      for (size_t i = first; i < all.size(); i += stride) part.push_back(all[i]);
      p.parts.push_back(model::make_batch(data, part, vocab, device));
    }
    return p;
  }

  // Prepares step `at_step` on a background thread (one at a time: the
  // streams are only ever used by one thread).
  void prefetch(long at_step) {
    next_step = std::async(std::launch::async, [this, at_step, from = positions] { return prepare(at_step, from); });
  }

  PreparedStep take_prepared(long at_step) {
    if (next_step.valid()) {
      PreparedStep p = next_step.get();
      if (p.step == at_step) return p;
    }
    return prepare(at_step, positions);
  }

  // Why the run ends after `step` while steps are left (rank 0's view; empty:
  // it goes on): early stopping after a validation, or the time limit, which
  // the next step (as long as this one) would pass.
  std::string reason_to_end(long step, bool validated, double step_seconds) const {
    const auto& t = config.training;
    if (validated && t.patience > 0 && best.step > 0 && step - best.step >= t.patience * t.val_every)
      return format("early stopping: {} has not improved for {} validations (best {:.4f} at step {})", best.metric,
                    t.patience, best.value, best.step);
    const double ran = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (t.max_time > 0 && ran + step_seconds > t.max_time)
      return format("time limit: {:.0f} s of training.max_time {:.0f} s used, and a step takes {:.1f} s", ran,
                    t.max_time, step_seconds);
    return "";
  }

  // Greedy decoding of every validation task, its batches shared among the
  // ranks; rank 0 scores, logs the metrics and the decaScore, and records the
  // best checkpoint. A stop signal ends it early: returns true then.
  bool validate() {
    const auto t0 = std::chrono::steady_clock::now();
    const Predictor predictor{net, tokenizer, vocab, device};
    auto options = EvalOptions::from(config);
    options.shard = comm->rank();
    options.shards = comm->world_size();
    EvalReport report;
    std::vector<nlohmann::ordered_json> lines;  // written once every task is scored: a stopped validation writes none
    for (const auto& split : validation) {
      SplitPredictions p;
      bool interrupted = false;
      try {
        p = predict_split(predictor, split.encoded, options);
      } catch (const Interrupted&) {
        interrupted = true;
      }
      if (!single())
        gather_answers(*comm, p, interrupted,
                       "the validation of " + split.task->name() + " at step " + std::to_string(step));
      if (comm->any(interrupted, "the validation at step " + std::to_string(step))) {
        log::warn("validation at step {} stopped by the signal", step);
        return true;
      }
      if (!comm->main()) continue;
      if (config.training.save_val_predictions)
        write_predictions(run_dir / "validation" / step_name(step), *split.task, split.examples, p.answers);
      auto result = score_task(*split.task, p.answers, split.examples, p.seconds);
      nlohmann::ordered_json line{{"type", "validation"},
                                  {"step", step},
                                  {"split", "validation"},
                                  {"task", result.task},
                                  {"decascore_metric", result.decascore_metric},
                                  {"elapsed_seconds", elapsed}};
      for (const auto& [k, x] : result.values.items()) line[k] = x;
      lines.push_back(std::move(line));
      deca::log::info("validation step {} | {} | {} {:.2f} | {} examples, e.g. \"{}\"", step, result.task,
                      result.decascore_metric, result.decascore_entry, result.examples,
                      p.answers.empty() ? "" : p.answers.front().substr(0, 60));
      report.add(std::move(result));
    }
    if (!comm->main()) return false;
    for (const auto& line : lines) metrics->write(line);
    metrics->write({{"type", "validation"},
                    {"step", step},
                    {"split", "validation"},
                    {"task", "decascore"},
                    {"decascore", report.decascore}});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    deca::log::info("validation step {} | decaScore {:.2f} | {:.1f} s", step, report.decascore, seconds);
    if (best.update(report, step)) log::info("new best {} {:.4f} at step {}", best.metric, best.value, step);
    return false;
  }
};

Trainer::Trainer(Config config, TrainerOptions options) : impl_(std::make_unique<Impl>()) {
  auto& I = *impl_;
  I.config = std::move(config);
  I.options = options;
  const Launch& launch = options.launch;
  I.run_dir = I.config.output;
  I.checkpoints_dir = I.run_dir / "checkpoints";
  I.device = parse_device(I.config.training.device);
  if (I.device.is_cuda() && launch.distributed()) {
    // Each process trains on the GPU of its local rank.
    if (I.device.has_index() && launch.local_world_size > 1)
      throw ConfigError("training.device " + I.config.training.device + " names one GPU for the " +
                        std::to_string(launch.local_world_size) +
                        " processes of this machine; use cuda (each process "
                        "takes the GPU of its local rank)");
    if (!I.device.has_index()) {
      // One GPU visible (a scheduler that binds one to each task): that one.
      const auto gpus = static_cast<int>(torch::cuda::device_count());
      if (gpus > 1 && launch.local_rank >= gpus)
        throw ConfigError("local rank " + std::to_string(launch.local_rank) + " has no GPU: this machine shows " +
                          std::to_string(gpus) + "; start at most one process per GPU");
      I.device = torch::Device(torch::kCUDA, static_cast<int8_t>(gpus == 1 ? 0 : launch.local_rank));
    }
  }
  I.tasks = I.config.all_tasks();
  I.val_tasks = I.config.training.val_tasks.empty() ? I.tasks : I.config.training.val_tasks;
  // A new run's data root is checked before its run folder is made (a resumed
  // one's may be the run's own: below).
  if (!options.resume && launch.rank == 0) announce_data_root(I.config.data.data_root);
  make_data_paths_absolute(I.config);
  {
    std::vector<std::shared_ptr<const Task>> validated;
    for (const auto& name : I.val_tasks) validated.push_back(find_task(name, I.config.data.data_root));
    I.best.metric = I.config.training.best_metric;
    I.best.check(metrics_of(validated), I.config.training.val_every > 0);
  }
  // The processes of one machine share the CPUs they may use.
  model::use_threads(static_cast<int>(I.config.training.threads), std::max(1, launch.local_world_size));
  torch::manual_seed(static_cast<uint64_t>(I.config.training.seed));
  model::set_matmul_precision(I.config.training.precision);

  fs::path init_checkpoint;
  // The tokenizer files --init-from copies into the run folder, removed again
  // when the run cannot start (a later run there must not find them).
  struct RemovedUnlessKept {
    std::vector<fs::path> files;
    bool keep = false;
    ~RemovedUnlessKept() {
      std::error_code ignored;
      if (!keep)
        for (const auto& f : files) fs::remove(f, ignored);
    }
  } copied_tokenizer;
  if (!options.init_from.empty()) {
    if (options.resume) throw ConfigError("--init-from starts a new run, --resume continues one: use one of them");
    if (!I.config.tokenizer.model.empty())
      throw ConfigError("--init-from brings the checkpoint's tokenizer: leave tokenizer.model empty");
    init_checkpoint = resolve_checkpoint(options.init_from);
    if (options.overwrite && path_within(init_checkpoint, I.run_dir))
      throw ConfigError("--init-from " + options.init_from.string() + " lies in --output " + I.run_dir.string() +
                        ", whose earlier run --overwrite replaces: write the new run to another --output");
    verify_checkpoint(init_checkpoint);
    I.origin = init_origin(init_checkpoint);
    adopt_architecture(I.config, init_checkpoint, options);
  }

  I.comm = std::make_unique<Communicator>(launch, options.dist, I.device);
  check_ranks_agree(*I.comm, I.config);
  // Rank 0 alone prepares the run folder and the data; the others wait, then read.
  std::vector<fs::path> damaged;
  const fs::path resume_from = I.comm->from_main(
      [&] {
        I.folder = std::make_unique<RunFolder>(I.run_dir, options.resume, options.overwrite);
        if (!init_checkpoint.empty()) {
          // The checkpoint's tokenizer: its pieces are the rows of the embedding.
          for (const char* f : {"tokenizer.model", "tokenizer.json"}) {
            if (!fs::exists(init_checkpoint / f)) continue;
            write_file_atomic(I.run_dir / f, read_file(init_checkpoint / f));
            copied_tokenizer.files.push_back(I.run_dir / f);
          }
        }
        const fs::path from = options.resume ? I.resume_checkpoint(damaged) : fs::path();
        if (options.resume) {
          check_resume_config(I.config, from, options.set_keys);
          announce_data_root(I.config.data.data_root);
          make_data_paths_absolute(I.config);
          check_resume_tokenizer(
              I.config.tokenizer.model.empty() ? I.run_dir / "tokenizer.model" : fs::path(I.config.tokenizer.model),
              from);
        }
        I.load_data();
        return from.string();
      },
      "the preparation of the run folder and the data");
  if (!I.comm->main()) {
    if (I.config.tokenizer.model.empty() && !fs::exists(I.run_dir / "tokenizer.model"))
      throw ConfigError("rank " + std::to_string(launch.rank) + " does not see " +
                        (I.run_dir / "tokenizer.model").string() +
                        ", which rank 0 wrote: every rank needs the run folder, on a filesystem they share");
    I.load_data();
  }
  std::vector<long> sizes;
  for (size_t k = 0; k < I.tasks.size(); ++k) {
    I.streams.push_back(std::make_unique<TrainStream>(I.train[k].encoded, I.config.batching,
                                                      static_cast<uint64_t>(I.config.training.seed), k));
    sizes.push_back(static_cast<long>(I.train[k].encoded.size()));
  }
  I.positions.assign(I.tasks.size(), {});
  I.mixer =
      std::make_unique<TaskMixer>(I.config.curriculum, I.tasks, sizes, static_cast<uint64_t>(I.config.training.seed));

  I.net = model::make_model(I.config.model, I.vocab);
  if (!init_checkpoint.empty()) {
    try {
      model::load_safetensors(*I.net, init_checkpoint / "model.safetensors");
    } catch (const DataError& e) {
      throw ConfigError(std::string("--init-from: ") + e.what() +
                        "; the config's model section must describe the checkpoint's "
                        "architecture (" +
                        (init_checkpoint / "config.json").string() + ")");
    }
  } else if (!I.config.model.embeddings_file.empty() && !options.resume) {
    init_embeddings(*I.net, *I.tokenizer, I.config.model.embeddings_file, I.config.model.embedding_dim);
  }
  if (I.config.model.freeze_embeddings) freeze_embeddings(*I.net);
  check_selectors(I.config.model.freeze, "model.freeze", *I.net);
  for (auto& p : I.net->named_parameters(true))
    for (const auto& part : I.config.model.freeze)
      if (selects(part, p.key())) p.value().requires_grad_(false);
  I.net->to(I.device);
  const auto& t = I.config.training;
  {
    std::vector<std::pair<std::string, torch::Tensor>> named;
    for (const auto& p : I.net->named_parameters(true)) named.emplace_back(p.key(), p.value());
    I.optimizer = std::make_unique<Adam>(named, adam_options(t));
    std::vector<std::string> scaled;
    for (const auto& s : t.lr_scales) scaled.push_back(s.part);
    check_selectors(scaled, "training.lr_scales", *I.net);
    for (const auto& [name, p] : named)
      for (const auto& s : t.lr_scales)  // a later entry wins
        if (p.requires_grad() && selects(s.part, name)) I.optimizer->scale_lr(name, s.scale);
  }
  if (!I.single()) {
    // Every rank starts from rank 0's weights, and draws its own dropout.
    broadcast_weights(*I.comm, I.net->parameters());
    torch::manual_seed(
        splitmix64(static_cast<uint64_t>(I.config.training.seed) ^ splitmix64(static_cast<uint64_t>(launch.rank))));
    I.exchange = std::make_unique<GradientExchange>(*I.comm, I.optimizer->parameters(), I.device);
  }
  I.training_step =
      std::make_unique<TrainingStep>(*I.net, *I.optimizer, I.device, t.precision == "bf16", I.exchange.get());
  if (options.resume) I.restore(resume_from);

  if (I.comm->main()) {
    // Everything is validated: only now is the run's config written.
    write_file_atomic(I.run_dir / "config.json", config_to_json(I.config).dump(2) + "\n");
    if (!init_checkpoint.empty()) {
      copied_tokenizer.keep = true;
      write_file_atomic(I.run_dir / "init_from.json", I.origin.dump(2) + "\n");
      log::info("initialised from {} (step {}, trained on {})", I.origin.at("checkpoint").get<std::string>(),
                I.origin.at("step").get<long>(), I.origin.at("trained_tasks").dump());
    }
    if (options.resume) {
      for (const auto& d : damaged)
        deca::log::warn("set the damaged checkpoint aside as {}", set_checkpoint_aside(d, "damaged").string());
      point_link(I.checkpoints_dir, "last", resume_from);
      if (I.best.step > 0 && !fs::exists(I.checkpoints_dir / step_name(I.best.step) / "model.safetensors"))
        I.best = BestCheckpoint{I.best.metric};
      if (fs::is_symlink(I.checkpoints_dir / "best") && !fs::exists(I.checkpoints_dir / "best")) {
        deca::log::warn("removing the link best: its checkpoint was damaged; the next validation sets it again");
        fs::remove(I.checkpoints_dir / "best");
      }
      if (const long dropped = MetricsLog::truncate_after(I.run_dir / "metrics.jsonl", I.step))
        log::info("metrics.jsonl: {} lines after step {} removed (they belong to the interrupted part)", dropped,
                  I.step);
    }
    deca::log::info("{}; {} model: {:.2f} M parameters, vocabulary {}, device {}, {} threads{}", version_line(),
                    I.config.model.type, static_cast<double>(model::parameter_count(*I.net)) / 1e6, I.vocab.size,
                    I.config.training.device, torch::get_num_threads(),
                    I.single() ? "" : format(", {} processes ({})", I.comm->world_size(), I.comm->backend()));
    I.metrics = std::make_unique<MetricsLog>(I.run_dir / "metrics.jsonl",
                                             I.config.training.tensorboard ? I.run_dir / "tensorboard" : fs::path{});
    // Which build trained which steps: one line at every start and resume.
    I.metrics->write({{"type", "start"},
                      {"step", I.step},
                      {"resumed", options.resume},
                      {"deca_version", version()},
                      {"deca_commit", build_commit()},
                      {"world_size", I.comm->world_size()},
                      {"device", I.config.training.device}});
  }
}

Trainer::~Trainer() = default;

int Trainer::run() {
  auto& I = *impl_;
  const auto& t = I.config.training;
  stop::install();
  Eta eta(t.steps, t.val_every);
  ProgressLine progress(t.steps);
  std::optional<TrainLog> train_log;
  if (I.comm->main()) train_log.emplace(*I.metrics, t.log_every, t.steps);
  // One process looks at its own stop signal; several agree on one, carried by
  // each step's all-reduce, so that all stop after the same step.
  auto stop_now = [&] { return I.single() ? stop::requested() : I.stop_agreed; };
  if (I.validation_pending && t.val_every > 0) {
    // The resumed checkpoint's validation was stopped by a signal: it runs
    // now, and the checkpoint is saved again with its outcome (`best`).
    log::info("validating step {} first (its validation was stopped with the run)", I.step);
    if (I.validate()) {
      log::warn("stopped by signal {} during the validation of step {}; resume with --resume", stop::signal_number(),
                I.step);
      return 130;
    }
    I.validation_pending = false;
    I.save("validation");
  }
  // The first batch is made before the clock of the first step starts: after
  // a resume, finding the data position is start-up work, not a step's.
  if (I.step < t.steps && !I.next_step.valid()) {
    I.prefetch(I.step + 1);
    I.next_step.wait();
  }
  // On a GPU the steps' outcomes (loss, skipped or not) are read at log lines,
  // checkpoints and a stop, or after kMaxPendingSteps, so that no step waits
  // for the device; on the CPU there is nothing to wait for: every step.
  constexpr size_t kMaxPendingSteps = 100;
  while (I.step < t.steps) {
    const double elapsed_before = I.elapsed;
    I.train_step();
    const double step_seconds = I.elapsed - elapsed_before;  // train_step's own clock
    const long step = I.step;
    const bool stop = stop_now();
    bool validate_now = t.val_every > 0 && (step % t.val_every == 0 || step == t.steps) && !stop;
    bool save_now = validate_now || step % t.save_every == 0 || step == t.steps;
    if (!I.device.is_cuda() || step % t.log_every == 0 || save_now || stop || I.pending.size() >= kMaxPendingSteps) {
      for (const StepOutcome& s : I.take_outcomes()) {
        if (I.bad.after_step(s, t.max_bad_steps)) I.stop_diverged(s.step);
        if (!train_log) continue;
        eta.after_step(s.seconds);
        progress.after_step(s, eta);
        if (train_log->due(s.step)) progress.clear();
        train_log->after_step(s, eta);
      }
    }
    if (I.unconfirmed > 0 && I.bad.last_applied > I.unconfirmed) I.prune();
    // Weights that gave a non-finite loss are neither validated nor saved: a
    // checkpoint of a diverging run must not push out a good one.
    const bool diverging = I.bad.consecutive > 0;
    if (diverging && (save_now || stop)) {
      log::warn("step {}: no validation or checkpoint during {} non-finite losses in a row", step, I.bad.consecutive);
      validate_now = save_now = false;
    }
    const auto validation_start = std::chrono::steady_clock::now();
    const bool interrupted = validate_now && I.validate();
    if (validate_now)
      eta.after_validation(std::chrono::duration<double>(std::chrono::steady_clock::now() - validation_start).count());
    I.validation_pending = interrupted;
    if (save_now) I.save(validate_now ? "validation" : "periodic");
    if (interrupted || stop) {
      if (!save_now && !diverging) I.save("interrupted");
      if (!diverging) I.prune();
      log::warn("stopped by signal {} after step {}; resume with --resume (checkpoint {})", stop::signal_number(), step,
                (I.checkpoints_dir / "last").string());
      return 130;
    }
    if ((t.patience > 0 || t.max_time > 0) && step < t.steps) {
      const std::string why =
          I.comm->main() && !diverging ? I.reason_to_end(step, validate_now && !interrupted, step_seconds) : "";
      if (I.comm->any(!why.empty(), "ending the run at step " + std::to_string(step))) {
        if (!save_now) I.save("end of the run");
        I.prune();
        if (!I.comm->main()) return 0;
        I.metrics->write({{"type", "end"}, {"step", step}, {"reason", why}});
        log::info("{}: the run ends after step {} of {} (checkpoint {}; --resume continues it)", why, step, t.steps,
                  (I.checkpoints_dir / "last").string());
        return 0;
      }
    }
  }
  if (I.bad.consecutive == 0) I.prune();
  log::info("training done: {} steps, {} skipped; checkpoints in {}", I.step, I.bad.total, I.checkpoints_dir.string());
  return 0;
}

}  // namespace deca
