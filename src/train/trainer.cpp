#include "deca/train/trainer.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <map>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/core/log.h"
#include "deca/core/run_lock.h"
#include "deca/core/stop.h"
#include "deca/data/batching.h"
#include "deca/data/mixing.h"
#include "deca/model/model.h"
#include "deca/model/safetensors.h"
#include "deca/text/unicode.h"
#include "deca/train/checkpoint.h"
#include "deca/train/embeddings.h"
#include "deca/train/pipeline.h"
#include "deca/train/predict.h"

namespace fs = std::filesystem;

namespace deca {
namespace {

std::string step_name(long step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step-%08ld", step);
  return buf;
}

std::string hms(double seconds) {
  const long s = static_cast<long>(seconds);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

// Refuses to start a new run over an old one (unless told to start over) and
// removes what killed saves left behind.
void prepare_run_folder(const fs::path& run_dir, const TrainerOptions& options) {
  const fs::path checkpoints = run_dir / "checkpoints";
  fs::create_directories(checkpoints);
  for (const auto& e : fs::directory_iterator(checkpoints)) {
    if (e.path().filename().string().rfind(".tmp-", 0) != 0) continue;
    deca::log::info("removing {} (left by an interrupted save)", e.path().string());
    fs::remove_all(e.path());
  }
  if (options.resume) return;
  const auto old = checkpoint_folders(checkpoints);
  const bool has_history = !old.empty() || fs::exists(checkpoints / "last") || fs::exists(run_dir / "metrics.jsonl");
  if (!has_history) return;
  if (!options.overwrite)
    throw ConfigError(run_dir.string() + " already holds a run" +
                      (old.empty() ? "" : " (newest checkpoint " + old.back().filename().string() + ")") +
                      ": continue it with --resume, start over with --overwrite (deletes its checkpoints and "
                      "metrics), or choose another --output");
  deca::log::warn("--overwrite: deleting the checkpoints, metrics and tokenizer of the earlier run in {}", run_dir.string());
  fs::remove_all(checkpoints);
  fs::create_directories(checkpoints);
  for (const char* f : {"metrics.jsonl", "tokenizer.model", "tokenizer.json", "config.json"}) fs::remove(run_dir / f);
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
  std::unique_ptr<FolderLock> lock;  // held for the trainer's life
  torch::Device device{torch::kCPU};
  std::shared_ptr<const Tokenizer> tokenizer;
  model::Vocabulary vocab;
  std::vector<std::string> tasks;
  std::vector<TaskSplit> train, validation;
  std::vector<std::unique_ptr<TrainStream>> streams;
  std::vector<StreamPosition> positions;
  std::unique_ptr<TaskMixer> mixer;
  std::shared_ptr<model::Seq2Seq> net;
  std::unique_ptr<torch::optim::Adam> optimizer;
  std::ofstream metrics;

  long step = 0;  // steps done
  long bad_steps = 0, consecutive_bad = 0;
  double best_value = -std::numeric_limits<double>::infinity();
  long best_step = 0;
  double elapsed = 0;  // seconds of training before this process

  nlohmann::json state_json() const {
    nlohmann::json pos = nlohmann::json::object();
    for (size_t k = 0; k < tasks.size(); ++k) pos[tasks[k]] = {{"epoch", positions[k].epoch}, {"batch", positions[k].batch}};
    return {{"step", step},
            {"phase", mixer->at(std::max(1L, step)).phase},
            {"positions", pos},
            {"best", {{"metric", config.training.best_metric}, {"value", best_value}, {"step", best_step}}},
            {"bad_steps", bad_steps},
            {"consecutive_bad_steps", consecutive_bad},
            {"elapsed_seconds", elapsed}};
  }

  void write_metrics(const nlohmann::ordered_json& line) {
    metrics << line.dump() << '\n';
    metrics.flush();
    if (!metrics) throw Error("cannot write " + (run_dir / "metrics.jsonl").string() + " (disk full?)");
  }

  fs::path save(const char* why) {
    stop::SaveGuard saving;  // a second stop signal waits for the checkpoint
    const fs::path dir = checkpoints_dir / step_name(step);
    write_checkpoint(dir, config, *tokenizer, *net, optimizer.get(), state_json());
    point_link(checkpoints_dir, "last", dir);
    if (best_step == step) point_link(checkpoints_dir, "best", dir);
    prune();
    deca::log::info("saved checkpoint {} ({})", dir.string(), why);
    return dir;
  }

  // Keeps the newest keep_last checkpoints and the best one.
  void prune() {
    const auto dirs = checkpoint_folders(checkpoints_dir);
    const std::string best = best_step > 0 ? step_name(best_step) : "";
    long keep = config.training.keep_last;
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
      if (it->filename() == best) continue;
      if (keep-- > 0) continue;
      fs::remove_all(*it);
    }
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

  void restore(const fs::path& dir) {
    const auto s = read_trainer_state(dir);
    const fs::path state_file = dir / "trainer_state.json";
    try {
      // The positions first: a changed task list is a config problem, not damage.
      const auto& pos = s.at("positions");
      for (size_t k = 0; k < tasks.size(); ++k) {
        if (!pos.contains(tasks[k])) {
          std::string trained;
          for (const auto& [name, p] : pos.items()) trained += (trained.empty() ? "" : ", ") + name;
          throw ConfigError("--resume: the config trains task " + tasks[k] + ", but checkpoint " + dir.string() +
                            " was trained on " + trained + "; resume with the run's own config (" +
                            (run_dir / "config.json").string() + ") or start a new run");
        }
        const auto& p = pos.at(tasks[k]);
        positions[k] = {p.at("epoch").get<uint64_t>(), p.at("batch").get<uint64_t>()};
      }
      step = s.at("step").get<long>();
      bad_steps = s.value("bad_steps", 0L);
      consecutive_bad = s.value("consecutive_bad_steps", 0L);
      elapsed = s.value("elapsed_seconds", 0.0);
      const auto& best = s.at("best").at("value");  // null when nothing was validated yet
      best_value = best.is_number() ? best.get<double>() : -std::numeric_limits<double>::infinity();
      best_step = s.at("best").value("step", 0L);
    } catch (const nlohmann::json::exception& e) {
      throw DataError::at(state_file.string(), 0, std::string("damaged trainer state (") + e.what() + ")");
    }
    model::load_safetensors(*net, dir / "model.safetensors");
    net->to(device);
    load_optimizer(*optimizer, dir / "optimizer.pt", device);
    const auto rng = load_rng_state(dir / "rng.pt");
    try {
      auto gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(rng.at(0));
    } catch (const c10::Error& e) {
      throw DataError::at((dir / "rng.pt").string(), 0, "not a CPU random generator state");
    }
    deca::log::info("resumed from {} at step {}", dir.string(), step);
  }

  // Keeps the lines of metrics.jsonl up to the resumed step, so that the file
  // reads as one history; a line cut by a kill is dropped too.
  void truncate_metrics() const {
    const fs::path file = run_dir / "metrics.jsonl";
    if (!fs::exists(file)) return;
    std::string kept;
    long dropped = 0;
    for_each_line(file, [&](std::string_view line, long) {
      if (line.empty()) return;
      const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (j.is_object() && j.value("step", 0L) <= step) {
        kept.append(line).push_back('\n');
      } else {
        ++dropped;
      }
    });
    if (dropped == 0) return;
    write_file_atomic(file, kept);
    deca::log::info("metrics.jsonl: {} lines after step {} removed (they belong to the interrupted part)", dropped, step);
  }

  // Checks training.best_metric names a metric of a validated task before any work.
  void check_best_metric(const std::vector<std::string>& val_tasks) const {
    const std::string& metric = config.training.best_metric;
    if (metric == "decascore") return;
    const size_t dot = metric.rfind('.');
    std::string known = "decascore";
    for (const auto& name : val_tasks) {
      const auto task = find_task(name, config.data.data_root);
      for (const auto& m : task->metric_names()) {
        if (dot != std::string::npos && metric.substr(0, dot) == name && metric.substr(dot + 1) == m) return;
        known += ", " + name + "." + m;
      }
    }
    throw ConfigError("config key \"training.best_metric\": \"" + metric + "\" is not a validated metric" +
                      (config.training.val_every > 0 ? " (one of: " + known + ")" : " (validation is off: training.val_every is 0)"));
  }

  // Greedy decoding of every validation task; logs the metrics and the decaScore.
  void validate() {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::pair<std::string, metrics::MetricValues>> per_task;
    const auto options = EvalOptions::from(config);
    for (auto& v : validation) {
      const auto e = evaluate_split(*net, *tokenizer, vocab, v, options, device);
      nlohmann::ordered_json line{{"type", "validation"}, {"step", step}, {"split", "validation"}, {"task", e.result.task},
                                  {"decascore_metric", e.result.decascore_metric}};
      for (const auto& [k, x] : e.result.values.items()) line[k] = x;
      write_metrics(line);
      const auto& answers = e.predictions.answers;
      deca::log::info("validation step {} | {} | {} {:.2f} | {} examples, e.g. \"{}\"", step, e.result.task,
                      e.result.decascore_metric, e.result.decascore_entry, e.result.examples,
                      answers.empty() ? "" : answers.front().substr(0, 60));
      per_task.emplace_back(e.result.task, e.result.values);
    }
    const double total = decascore(per_task);
    write_metrics({{"type", "validation"}, {"step", step}, {"split", "validation"}, {"task", "decascore"}, {"decascore", total}});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    deca::log::info("validation step {} | decaScore {:.2f} | {:.1f} s", step, total, seconds);
    // The best checkpoint by the configured metric.
    double value = total;
    const std::string& metric = config.training.best_metric;
    if (metric != "decascore") {
      const size_t dot = metric.rfind('.');
      bool found = false;
      for (const auto& [name, values] : per_task) {
        if (dot != std::string::npos && name == metric.substr(0, dot)) {
          if (auto x = values.get(metric.substr(dot + 1))) value = *x, found = true;
        }
      }
      if (!found) throw ConfigError("training.best_metric \"" + metric + "\" names no validated task metric");
    }
    if (value > best_value) {
      best_value = value;
      best_step = step;
      deca::log::info("new best {} {:.4f} at step {}", metric, value, step);
    }
  }
};

Trainer::Trainer(Config config, TrainerOptions options) : impl_(std::make_unique<Impl>()) {
  auto& I = *impl_;
  I.config = std::move(config);
  I.options = options;
  I.run_dir = I.config.output;
  I.checkpoints_dir = I.run_dir / "checkpoints";
  I.device = parse_device(I.config.training.device);
  I.tasks = I.config.all_tasks();
  const auto val_tasks = I.config.training.val_tasks.empty() ? I.tasks : I.config.training.val_tasks;
  I.check_best_metric(val_tasks);
  I.lock = std::make_unique<FolderLock>(I.run_dir);
  prepare_run_folder(I.run_dir, options);
  torch::set_num_threads(static_cast<int>(I.config.training.threads > 0
                                              ? I.config.training.threads
                                              : std::max(1u, std::thread::hardware_concurrency())));
  torch::manual_seed(static_cast<uint64_t>(I.config.training.seed));

  std::vector<fs::path> damaged;
  const fs::path resume_from = options.resume ? I.resume_checkpoint(damaged) : fs::path();

  I.tokenizer = prepare_tokenizer(I.config, I.tasks, I.run_dir / "tokenizer.model");
  I.vocab = vocabulary_of(*I.tokenizer);
  const fs::path cache = I.config.data.cache_dir.empty() ? I.run_dir / "cache" : fs::path(I.config.data.cache_dir);
  I.train = load_splits(I.config, I.tasks, Split::Train, *I.tokenizer, cache);
  std::vector<long> sizes;
  for (size_t k = 0; k < I.tasks.size(); ++k) {
    I.streams.push_back(std::make_unique<TrainStream>(I.train[k].encoded, I.config.batching,
                                                      static_cast<uint64_t>(I.config.training.seed), k));
    sizes.push_back(static_cast<long>(I.train[k].encoded.size()));
  }
  I.positions.assign(I.tasks.size(), {});
  I.mixer = std::make_unique<TaskMixer>(I.config.curriculum, I.tasks, sizes, static_cast<uint64_t>(I.config.training.seed));
  if (I.config.training.val_every > 0) {
    I.validation = load_splits(I.config, val_tasks, Split::Validation, *I.tokenizer, cache);
    if (I.config.training.val_max_examples > 0) {
      const size_t n = static_cast<size_t>(I.config.training.val_max_examples);
      for (auto& v : I.validation) {
        if (v.examples.size() <= n) continue;
        v.examples.resize(n);
        v.encoded = encode(v.examples, *I.tokenizer, EncodeOptions::from(I.config.data, false));
      }
    }
  }

  I.net = model::make_model(I.config.model, I.vocab);
  if (!I.config.model.embeddings_file.empty() && !options.resume)
    init_embeddings(*I.net, *I.tokenizer, I.config.model.embeddings_file, I.config.model.embedding_dim);
  if (I.config.model.freeze_embeddings) freeze_embeddings(*I.net);
  I.net->to(I.device);
  const auto& t = I.config.training;
  I.optimizer = std::make_unique<torch::optim::Adam>(
      I.net->parameters(), torch::optim::AdamOptions(learning_rate(t, I.config.model.dimension, 1)).betas({t.beta1, t.beta2}).eps(t.eps));
  if (options.resume) I.restore(resume_from);

  // Everything is validated: only now does the run folder change.
  write_file_atomic(I.run_dir / "config.json", config_to_json(I.config).dump(2) + "\n");
  if (options.resume) {
    for (const auto& d : damaged) {
      const fs::path aside = d.parent_path() / ("damaged-" + d.filename().string());
      fs::remove_all(aside);
      fs::rename(d, aside);
      deca::log::warn("set the damaged checkpoint aside as {}", aside.string());
    }
    point_link(I.checkpoints_dir, "last", resume_from);
    if (I.best_step > 0 && !fs::exists(I.checkpoints_dir / step_name(I.best_step) / "model.safetensors"))
      I.best_step = 0, I.best_value = -std::numeric_limits<double>::infinity();
    if (fs::is_symlink(I.checkpoints_dir / "best") && !fs::exists(I.checkpoints_dir / "best")) {
      deca::log::warn("removing the link best: its checkpoint was damaged; the next validation sets it again");
      fs::remove(I.checkpoints_dir / "best");
    }
    I.truncate_metrics();
  }
  deca::log::info("{} model: {:.2f} M parameters, vocabulary {}, device {}, {} threads", I.config.model.type,
               static_cast<double>(model::parameter_count(*I.net)) / 1e6, I.vocab.size, I.config.training.device,
               torch::get_num_threads());
  I.metrics.open(I.run_dir / "metrics.jsonl", std::ios::app);
  if (!I.metrics) throw Error("cannot write " + (I.run_dir / "metrics.jsonl").string());
}

Trainer::~Trainer() = default;

int Trainer::run() {
  auto& I = *impl_;
  const auto& t = I.config.training;
  stop::install();

  const bool tty = ::isatty(STDERR_FILENO);
  const auto t0 = std::chrono::steady_clock::now();
  const long first_step = I.step;
  double interval_tokens = 0, interval_examples = 0, interval_seconds = 0;
  std::map<std::string, std::pair<double, long>> interval_loss;  // task -> (sum, count)
  auto params = I.net->parameters();

  while (I.step < t.steps) {
    const auto s0 = std::chrono::steady_clock::now();
    const long step = I.step + 1;
    const auto pick = I.mixer->at(step);
    const auto rows = I.streams[pick.task]->next(I.positions[pick.task]);
    const auto batch = model::make_batch(I.train[pick.task].encoded, rows, I.vocab, I.device);
    I.net->train();
    I.optimizer->zero_grad();
    auto loss = I.net->loss(batch);
    double value = loss.item<double>();
    bool ok = std::isfinite(value);
    if (ok) {
      loss.backward();
      const double norm = t.grad_clip > 0 ? torch::nn::utils::clip_grad_norm_(params, t.grad_clip)
                                          : std::numeric_limits<double>::quiet_NaN();
      ok = t.grad_clip <= 0 || std::isfinite(norm);
    }
    const double lr = learning_rate(t, I.config.model.dimension, step);
    if (ok) {
      for (auto& group : I.optimizer->param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
      I.optimizer->step();
      I.consecutive_bad = 0;
    } else {
      ++I.bad_steps;
      ++I.consecutive_bad;
      deca::log::warn("step {}: non-finite loss or gradient on {}; step skipped ({} in a row)", step,
                   I.tasks[pick.task], I.consecutive_bad);
      if (I.consecutive_bad >= t.max_bad_steps)
        throw Error(std::to_string(I.consecutive_bad) + " non-finite losses in a row at step " + std::to_string(step) +
                    "; stopping. The last good checkpoint is " + (I.checkpoints_dir / "last").string());
    }
    I.step = step;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
    interval_seconds += seconds;
    interval_tokens += static_cast<double>(batch.input_tokens);
    interval_examples += static_cast<double>(rows.size());
    if (ok) {
      auto& [sum, count] = interval_loss[I.tasks[pick.task]];
      sum += value;
      ++count;
    }
    const double done_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double eta = done_s / static_cast<double>(step - first_step) * static_cast<double>(t.steps - step);
    if (tty) {
      std::fprintf(stderr, "\r[%ld/%ld] %-16s loss %.4f  ETA %s  ", step, t.steps, I.tasks[pick.task].c_str(), value,
                   hms(eta).c_str());
      std::fflush(stderr);
    }
    if (step % t.log_every == 0 || step == t.steps) {
      if (tty) std::fprintf(stderr, "\r%*s\r", 80, "");
      const double tps = interval_seconds > 0 ? interval_tokens / interval_seconds : 0;
      double sum_all = 0;
      long count_all = 0;
      std::string per_task;
      for (const auto& [task, sc] : interval_loss) {
        const double mean = sc.first / static_cast<double>(sc.second);
        I.write_metrics({{"type", "train"}, {"step", step}, {"phase", pick.phase}, {"task", task}, {"loss", mean},
                         {"lr", lr}, {"tokens_per_s", tps},
                         {"examples_per_s", interval_seconds > 0 ? interval_examples / interval_seconds : 0}});
        sum_all += sc.first;
        count_all += sc.second;
        per_task += deca::format("{}{} {:.3f}", per_task.empty() ? "" : ", ", task, mean);
      }
      deca::log::info("step {}/{} | phase {} | loss {:.4f} ({}) | lr {:.3g} | {:.0f} tok/s | ETA {}", step, t.steps,
                   pick.phase, count_all ? sum_all / static_cast<double>(count_all) : 0.0, per_task, lr, tps, hms(eta));
      interval_loss.clear();
      interval_tokens = interval_examples = interval_seconds = 0;
    }
    I.elapsed += seconds;
    const bool validate_now = t.val_every > 0 && (step % t.val_every == 0 || step == t.steps) && !stop::requested();
    bool saved = false;
    if (validate_now) {
      try {
        I.validate();
      } catch (const Interrupted&) {
        deca::log::warn("validation at step {} stopped by the signal", step);
      }
    }
    if (validate_now || step % t.save_every == 0 || step == t.steps) {
      I.save(validate_now ? "validation" : "periodic");
      saved = true;
    }
    if (stop::requested()) {
      if (!saved) I.save("interrupted");
      deca::log::warn("stopped by signal {} after step {}; resume with --resume (checkpoint {})", stop::signal_number(), step,
                   (I.checkpoints_dir / "last").string());
      return 130;
    }
  }
  deca::log::info("training done: {} steps, {} skipped; checkpoints in {}", I.step, I.bad_steps, I.checkpoints_dir.string());
  return 0;
}

}  // namespace deca
