#include "deca/train/trainer.h"

#include <chrono>
#include <cmath>

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
#include "deca/data/splits.h"
#include "deca/eval/files.h"
#include "deca/infer/predict.h"
#include "deca/train/checkpoint.h"
#include "deca/train/embeddings.h"
#include "deca/train/observers.h"

namespace fs = std::filesystem;

namespace deca {
namespace {

std::string step_name(long step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step-%08ld", step);
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
  std::vector<torch::Tensor> parameters;  // of net, for gradient clipping
  std::unique_ptr<MetricsLog> metrics;

  long step = 0;  // steps done
  BadSteps bad;
  BestCheckpoint best;
  double elapsed = 0;  // seconds of training, this process and the ones it resumes

  nlohmann::json state_json() const {
    nlohmann::json pos = nlohmann::json::object();
    for (size_t k = 0; k < tasks.size(); ++k) pos[tasks[k]] = {{"epoch", positions[k].epoch}, {"batch", positions[k].batch}};
    return {{"step", step},
            {"phase", mixer->at(std::max(1L, step)).phase},
            {"positions", pos},
            {"best", {{"metric", best.metric}, {"value", best.value}, {"step", best.step}}},
            {"bad_steps", bad.total},
            {"consecutive_bad_steps", bad.consecutive},
            {"elapsed_seconds", elapsed}};
  }

  fs::path save(const char* why) {
    stop::SaveGuard saving;  // a second stop signal waits for the checkpoint
    const fs::path dir = checkpoints_dir / step_name(step);
    write_checkpoint(dir, config, *tokenizer, *net, optimizer.get(), state_json());
    point_link(checkpoints_dir, "last", dir);
    if (best.step == step) point_link(checkpoints_dir, "best", dir);
    prune();
    deca::log::info("saved checkpoint {} ({})", dir.string(), why);
    return dir;
  }

  // Keeps the newest keep_last checkpoints and the best one.
  void prune() {
    const auto dirs = checkpoint_folders(checkpoints_dir);
    const std::string best_name = best.step > 0 ? step_name(best.step) : "";
    long keep = config.training.keep_last;
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
      if (it->filename() == best_name) continue;
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
      bad.total = s.value("bad_steps", 0L);
      bad.consecutive = s.value("consecutive_bad_steps", 0L);
      elapsed = s.value("elapsed_seconds", 0.0);
      const auto& value = s.at("best").at("value");  // null when nothing was validated yet
      best.value = value.is_number() ? value.get<double>() : -std::numeric_limits<double>::infinity();
      best.step = s.at("best").value("step", 0L);
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

  // One optimizer step on the next batch of the task the curriculum picks; a
  // non-finite loss or gradient skips the update.
  StepOutcome train_step() {
    const auto start = std::chrono::steady_clock::now();
    const auto& t = config.training;
    StepOutcome s;
    s.step = step + 1;
    const auto pick = mixer->at(s.step);
    s.task = tasks[pick.task];
    s.phase = pick.phase;
    const auto rows = streams[pick.task]->next(positions[pick.task]);
    const auto batch = model::make_batch(train[pick.task].encoded, rows, vocab, device);
    net->train();
    optimizer->zero_grad();
    auto loss = net->loss(batch);
    s.loss = loss.item<double>();
    s.applied = std::isfinite(s.loss);
    if (s.applied) {
      loss.backward();
      if (t.grad_clip > 0) s.applied = std::isfinite(torch::nn::utils::clip_grad_norm_(parameters, t.grad_clip));
    }
    s.lr = learning_rate(t, config.model.dimension, s.step);
    if (s.applied) {
      for (auto& group : optimizer->param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(s.lr);
      optimizer->step();
    }
    step = s.step;
    s.tokens = batch.input_tokens;
    s.examples = static_cast<long>(rows.size());
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    elapsed += s.seconds;
    return s;
  }

  // Greedy decoding of every validation task; logs the metrics and the
  // decaScore, and records the best checkpoint. A stop signal ends it early.
  void validate() {
    try {
      validate_all();
    } catch (const Interrupted&) {
      log::warn("validation at step {} stopped by the signal", step);
    }
  }

  void validate_all() {
    const auto t0 = std::chrono::steady_clock::now();
    const Predictor predictor{net, tokenizer, vocab, device};
    const auto report = evaluate(predictor, validation, EvalOptions::from(config), [&](const TaskSplit&, const SplitEvaluation& e) {
      nlohmann::ordered_json line{{"type", "validation"}, {"step", step}, {"split", "validation"}, {"task", e.result.task},
                                  {"decascore_metric", e.result.decascore_metric}};
      for (const auto& [k, x] : e.result.values.items()) line[k] = x;
      metrics->write(line);
      const auto& answers = e.predictions.answers;
      deca::log::info("validation step {} | {} | {} {:.2f} | {} examples, e.g. \"{}\"", step, e.result.task,
                      e.result.decascore_metric, e.result.decascore_entry, e.result.examples,
                      answers.empty() ? "" : answers.front().substr(0, 60));
    });
    const double total = report.decascore;
    metrics->write({{"type", "validation"}, {"step", step}, {"split", "validation"}, {"task", "decascore"}, {"decascore", total}});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    deca::log::info("validation step {} | decaScore {:.2f} | {:.1f} s", step, total, seconds);
    if (best.update(report, step)) log::info("new best {} {:.4f} at step {}", best.metric, best.value, step);
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
  {
    std::vector<std::shared_ptr<const Task>> validated;
    for (const auto& name : val_tasks) validated.push_back(find_task(name, I.config.data.data_root));
    I.best.metric = I.config.training.best_metric;
    I.best.check(metrics_of(validated), I.config.training.val_every > 0);
  }
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
    // Validation reads as evaluation does, limited to the run's data.subsample
    // and training.val_max_examples (the smaller when both are set).
    EvalRead read{0, cache};
    for (long limit : {I.config.data.subsample, I.config.training.val_max_examples})
      if (limit > 0 && (read.max_examples == 0 || limit < read.max_examples)) read.max_examples = limit;
    for (const auto& name : val_tasks) {
      I.validation.push_back(read_eval_split(I.config, find_task(name, I.config.data.data_root), Split::Validation,
                                             *I.tokenizer, read));
      log::info("{} validation: {} examples", name, I.validation.back().examples.size());
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
  I.parameters = I.net->parameters();
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
    if (I.best.step > 0 && !fs::exists(I.checkpoints_dir / step_name(I.best.step) / "model.safetensors"))
      I.best = BestCheckpoint{I.best.metric};
    if (fs::is_symlink(I.checkpoints_dir / "best") && !fs::exists(I.checkpoints_dir / "best")) {
      deca::log::warn("removing the link best: its checkpoint was damaged; the next validation sets it again");
      fs::remove(I.checkpoints_dir / "best");
    }
    if (const long dropped = MetricsLog::truncate_after(I.run_dir / "metrics.jsonl", I.step))
      log::info("metrics.jsonl: {} lines after step {} removed (they belong to the interrupted part)", dropped, I.step);
  }
  deca::log::info("{} model: {:.2f} M parameters, vocabulary {}, device {}, {} threads", I.config.model.type,
               static_cast<double>(model::parameter_count(*I.net)) / 1e6, I.vocab.size, I.config.training.device,
               torch::get_num_threads());
  I.metrics = std::make_unique<MetricsLog>(I.run_dir / "metrics.jsonl");
}

Trainer::~Trainer() = default;

int Trainer::run() {
  auto& I = *impl_;
  const auto& t = I.config.training;
  stop::install();
  const Eta eta(I.step, t.steps);
  ProgressLine progress(t.steps);
  TrainLog train_log(*I.metrics, t.log_every, t.steps);
  while (I.step < t.steps) {
    const StepOutcome s = I.train_step();
    I.bad.after_step(s, t.max_bad_steps, I.checkpoints_dir / "last");
    progress.after_step(s, eta);
    if (train_log.due(s.step)) progress.clear();
    train_log.after_step(s, eta);
    const bool validate_now = t.val_every > 0 && (s.step % t.val_every == 0 || s.step == t.steps) && !stop::requested();
    if (validate_now) I.validate();
    const bool save_now = validate_now || s.step % t.save_every == 0 || s.step == t.steps;
    if (save_now) I.save(validate_now ? "validation" : "periodic");
    if (stop::requested()) {
      if (!save_now) I.save("interrupted");
      log::warn("stopped by signal {} after step {}; resume with --resume (checkpoint {})", stop::signal_number(), s.step,
                (I.checkpoints_dir / "last").string());
      return 130;
    }
  }
  log::info("training done: {} steps, {} skipped; checkpoints in {}", I.step, I.bad.total, I.checkpoints_dir.string());
  return 0;
}

}  // namespace deca
