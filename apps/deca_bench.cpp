// deca-bench: the speed and memory numbers of docs/benchmarks.md.
//   deca-bench metrics --shared DIR                     scoring speed on decathlon-sized inputs
//   deca-bench train --config FILE --data-root DIR [--tasks ...] [--vocabulary run|decathlon] [--max-tokens N]
//                    [--steps N] [--device cpu|cuda] [--precision fp32|tf32|bf16] [--profile trace.json] [--flops]
//   deca-bench decode --config FILE --data-root DIR --task squad [--beam N] [--trained-steps N] [--device ...]
//                     [--output-precision fp32|bf16] [--concurrent-batches N] [--batched-only]
// Prints one JSON object per measurement on stdout.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <numeric>
#include <optional>

#include <torch/csrc/autograd/profiler_kineto.h>
#ifdef DECA_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include "app_common.h"
#include "deca/core/io.h"
#include "deca/data/batching.h"
#include "deca/data/mixing.h"
#include "deca/data/splits.h"
#include "deca/infer/checkpoint.h"
#include "deca/infer/predict.h"
#include "deca/metrics/metrics.h"
#include "deca/model/decode.h"
#include "deca/model/precision.h"
#include "deca/tasks/task.h"
#include "deca/text/unicode.h"
#include "deca/train/adam.h"
#include "deca/train/training_step.h"

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}
// The most GPU memory the caching allocator held since the last reset (0 without CUDA).
double peak_gpu_mb(const torch::Device& device) {
#ifdef DECA_WITH_CUDA
  if (device.is_cuda())
    return static_cast<double>(
               c10::cuda::CUDACachingAllocator::getDeviceStats(device.index()).allocated_bytes[0].peak) /
           1048576.0;
#endif
  (void)device;
  return 0;
}
void emit(nlohmann::ordered_json j, const torch::Device& device = torch::kCPU) {
  if (!j.contains("peak_rss_mb")) j["peak_rss_mb"] = peak_rss_mb();
  if (device.is_cuda()) j["peak_gpu_mb"] = peak_gpu_mb(device);
  std::cout << j.dump() << std::endl;
}
// The wall clock of GPU work needs the queue drained first.
void sync(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}
// A Kineto trace (Chrome trace format; on CUDA with the GPU's kernels and
// copies) of what runs while it is recording.
class KinetoTrace {
 public:
  KinetoTrace(std::string file, const torch::Device& device) : file_(std::move(file)) {
    namespace prof = torch::profiler::impl;
    const prof::ProfilerConfig config(prof::ProfilerState::KINETO, /*report_input_shapes=*/true);
    std::set<prof::ActivityType> activities{prof::ActivityType::CPU};
    if (device.is_cuda()) activities.insert(prof::ActivityType::CUDA);
    torch::autograd::profiler::prepareProfiler(config, activities);
    torch::autograd::profiler::enableProfiler(config, activities);
    start_ = Clock::now();
  }
  // Stops and writes the trace. Returns the share of the recorded wall time
  // in which the GPU ran something (its events' intervals merged): the rest is
  // the GPU waiting for the host. Zero on the CPU.
  double finish() {
    const double wall_us = since(start_) * 1e6;
    const auto result = torch::autograd::profiler::disableProfiler();
    std::vector<std::pair<double, double>> busy;  // [start, end) in microseconds
    for (const auto& e : result->events())
      if (e.deviceType() == c10::DeviceType::CUDA) busy.push_back(interval_us(e));
    try {
      result->save(file_);
    } catch (const c10::Error&) {
      // A LibTorch built without Kineto (Debian's) records the operators but
      // cannot write them: the same events as a plain Chrome trace.
      nlohmann::json events = nlohmann::json::array();
      for (const auto& e : result->events()) {
        const auto [begin, end] = interval_us(e);
        nlohmann::json event = {{"name", e.name()},
                                {"ph", "X"},
                                {"ts", begin},
                                {"dur", end - begin},
                                {"pid", e.deviceType() == c10::DeviceType::CUDA ? "GPU" : "CPU"},
                                {"tid", e.startThreadId()}};
        if (e.hasShapes()) {
          auto& shapes = event["args"]["Input Dims"] = nlohmann::json::array();
          for (const auto& shape : e.shapes()) shapes.push_back(std::vector<int64_t>(shape.begin(), shape.end()));
        }
        events.push_back(std::move(event));
      }
      deca::write_file_atomic(file_, nlohmann::json{{"traceEvents", events}}.dump() + "\n");
    }
    std::sort(busy.begin(), busy.end());
    double covered = 0, reach = -1;
    for (const auto& [begin, end] : busy) {
      if (end <= reach) continue;
      covered += end - std::max(begin, reach);
      reach = end;
    }
    return wall_us > 0 ? std::min(1.0, covered / wall_us) : 0.0;
  }

 private:
  // KinetoEvent counts microseconds in LibTorch 1.x, nanoseconds in 2.x.
  template <class E>
  static auto interval_us(const E& e) -> decltype(e.startUs(), std::pair<double, double>()) {
    return {static_cast<double>(e.startUs()), static_cast<double>(e.startUs() + e.durationUs())};
  }
  template <class E>
  static auto interval_us(const E& e) -> decltype(e.startNs(), std::pair<double, double>()) {
    return {static_cast<double>(e.startNs()) / 1e3, static_cast<double>(e.startNs() + e.durationNs()) / 1e3};
  }
  std::string file_;
  Clock::time_point start_;
};

// The floating-point operations of what `work` runs, as LibTorch's profiler
// counts them from the operators' input shapes (with_flops): 2mnk for each
// mm/addmm/bmm/baddbmm/matmul product (forward and backward: autograd's
// products are operators too) and one per element of add/mul; operators
// without a formula (LSTM cells' element-wise gates, softmax, norms) count 0,
// so this is the matrix-product work, a lower bound.
template <class Work>
double counted_flops(Work&& work) {
  namespace prof = torch::profiler::impl;
  const prof::ProfilerConfig config(prof::ProfilerState::KINETO, /*report_input_shapes=*/true, /*profile_memory=*/false,
                                    /*with_stack=*/false, /*with_flops=*/true);
  const std::set<prof::ActivityType> activities{prof::ActivityType::CPU};
  torch::autograd::profiler::prepareProfiler(config, activities);
  torch::autograd::profiler::enableProfiler(config, activities);
  work();
  const auto result = torch::autograd::profiler::disableProfiler();
  double flops = 0;
  for (const auto& e : result->events()) flops += static_cast<double>(e.flops());
  return flops;
}

// This machine's fp32 matrix-product rate with torch's threads: a 1024 x 1024
// by 1024 x 1024 sgemm, repeated for about a second (after one warm-up).
double sgemm_flops_per_s() {
  const int64_t n = 1024;
  const auto a = torch::randn({n, n}), b = torch::randn({n, n});
  auto c = torch::mm(a, b);
  long reps = 0;
  const auto t0 = Clock::now();
  while (since(t0) < 1.0) {
    c = torch::mm(a, b);
    ++reps;
  }
  return 2.0 * static_cast<double>(n * n * n) * static_cast<double>(reps) / since(t0);
}

torch::Device device_of(const deca::Config& config) {
  auto d = deca::parse_device(config.training.device);
  if (d.is_cuda() && !d.has_index()) d = torch::Device(torch::kCUDA, 0);
  return d;
}

std::string words(const std::vector<std::string>& w, size_t from, size_t n) {
  std::string s;
  for (size_t i = from; i < std::min(w.size(), from + n); ++i) s += (s.empty() ? "" : " ") + w[i];
  return s;
}

// Scoring speed on inputs of the decathlon's validation sizes, built from real text.
int bench_metrics(const std::filesystem::path& shared) {
  deca::Config cfg;
  cfg.data.data_root = (shared / "data").string();
  // ROUGE: 13,368 prediction/reference pairs of ~55 words (CNN/DM validation size)
  // from real paragraphs: the reference is the prediction's window shifted by 8 words.
  const auto squad = deca::find_task("squad", cfg.data.data_root)->read(cfg.data.data_root, deca::Split::Train);
  std::vector<std::vector<std::string>> paragraphs;
  for (const auto& ex : squad)
    if (paragraphs.empty() || deca::text::collapse_ws(ex.context) != words(paragraphs.back(), 0, 100000))
      paragraphs.push_back(deca::text::split_ws(ex.context));
  for (size_t n : {6684ul, 13368ul}) {
    std::vector<std::string> preds;
    deca::metrics::Golds golds;
    for (size_t i = 0; i < n; ++i) {
      const auto& p = paragraphs[i % paragraphs.size()];
      const size_t off = (i / paragraphs.size()) % 20;
      preds.push_back(deca::text::lower(words(p, off, 55)));
      golds.push_back({deca::text::lower(words(p, off + 8, 55))});
    }
    const auto t = Clock::now();
    const auto r = deca::metrics::rouge(preds, golds);
    emit({{"bench", "rouge"}, {"pairs", n}, {"seconds", since(t)}, {"avg_rouge", r.avg}});
  }
  // BLEU: the 993 IWSLT tst2013 references, predictions with every 5th word dropped; and 10x that corpus.
  const auto iwslt =
      deca::find_task("iwslt.en.de", cfg.data.data_root)->read(cfg.data.data_root, deca::Split::Validation);
  for (size_t times : {1ul, 10ul}) {
    std::vector<std::string> preds, refs;
    for (size_t k = 0; k < times; ++k) {
      for (const auto& ex : iwslt) {
        const auto w = deca::text::split_ws(deca::text::lower(ex.answer()));
        std::string p;
        for (size_t i = 0; i < w.size(); ++i)
          if (i % 5 != 4) p += (p.empty() ? "" : " ") + w[i];
        preds.push_back(p);
        refs.push_back(deca::text::lower(ex.answer()));
      }
    }
    const auto t = Clock::now();
    const auto b = deca::metrics::corpus_bleu(preds, refs);
    emit({{"bench", "bleu"}, {"segments", preds.size()}, {"seconds", since(t)}, {"bleu", b.score}});
  }
  // EM/nEM/nF1 over SQuAD-sized input (10,570 questions): answers cut by one word.
  {
    std::vector<std::string> preds;
    deca::metrics::Golds golds;
    for (size_t i = 0; i < 10570; ++i) {
      const auto& ex = squad[i % squad.size()];
      const auto w = deca::text::split_ws(ex.answer());
      preds.push_back(deca::text::lower(words(w, 0, std::max<size_t>(1, w.size() - 1))));
      golds.push_back(ex.answers);
    }
    const auto t = Clock::now();
    const double f1 = deca::metrics::normalized_f1(preds, golds);
    const double em = deca::metrics::exact_match(preds, golds) + deca::metrics::normalized_exact_match(preds, golds);
    emit({{"bench", "squad_em_nem_nf1"},
          {"examples", preds.size()},
          {"seconds", since(t)},
          {"nf1", f1},
          {"em_sum", em}});
  }
  // Every task's full metric set on its real validation split, predictions = golds.
  double total = 0;
  for (const auto& name : deca::decathlon_tasks()) {
    const auto task = deca::find_task(name, cfg.data.data_root);
    const auto examples = task->read(cfg.data.data_root, deca::Split::Validation);
    std::vector<std::string> preds;
    for (const auto& ex : examples) preds.push_back(deca::text::lower(ex.answer()));
    const auto t = Clock::now();
    task->score(preds, examples);
    const double s = since(t);
    total += s;
    emit({{"bench", "task_metrics"}, {"task", name}, {"examples", examples.size()}, {"seconds", s}});
  }
  emit({{"bench", "task_metrics"}, {"task", "all ten"}, {"seconds", total}});
  return 0;
}

struct Prepared {
  deca::Config config;
  std::shared_ptr<const deca::Tokenizer> tokenizer;
  deca::model::Vocabulary vocab;
  std::vector<deca::TaskSplit> train;
};

// The tasks a tokenizer is trained on, and where it and the data it encoded
// live in the output folder: tokenizer.model and cache/ for the ten tasks,
// tokenizer.<tasks joined by +>.model and cache.<tasks>/ for another set (one
// output folder serves every workload, and a cache holds one tokenizer's data).
struct VocabularySource {
  std::vector<std::string> tasks;
  std::string file, cache;
};

VocabularySource vocabulary_source(std::vector<std::string> tasks) {
  std::sort(tasks.begin(), tasks.end());
  auto ten = deca::decathlon_tasks();
  std::sort(ten.begin(), ten.end());
  if (tasks == ten) return {ten, "tokenizer.model", "cache"};
  std::string name;
  for (const auto& t : tasks) name += (name.empty() ? "" : "+") + t;
  return {tasks, "tokenizer." + name + ".model", "cache." + name};
}

Prepared prepare(deca::Config config, const std::vector<std::string>& tasks, const VocabularySource& vocabulary) {
  Prepared p;
  p.config = std::move(config);
  std::filesystem::create_directories(p.config.output);
  p.tokenizer =
      deca::prepare_tokenizer(p.config, vocabulary.tasks, std::filesystem::path(p.config.output) / vocabulary.file);
  p.vocab = deca::vocabulary_of(*p.tokenizer);
  p.train = deca::load_splits(p.config, tasks, deca::Split::Train, *p.tokenizer,
                              std::filesystem::path(p.config.output) / vocabulary.cache);
  return p;
}

// Training speed on a fixed sequence of batches, twice: with the device
// drained between forward, backward and optimizer (their shares of the step),
// then as training runs, nothing waited for until the end (steps/s). With
// --flops a third pass counts the steps' floating-point operations
// (counted_flops), whose rate is set beside this machine's sgemm rate; with a
// profile file, a trace of three more steps run the second way.
int bench_train(deca::Config config, const std::vector<std::string>& tasks, const VocabularySource& vocabulary,
                long steps, long warmup, const std::string& profile, bool count_flops) {
  auto p = prepare(std::move(config), tasks, vocabulary);
  const torch::Device device = device_of(p.config);
  const bool bf16 = p.config.training.precision == "bf16";
  deca::model::set_matmul_precision(p.config.training.precision);
  torch::manual_seed(1);
  auto net = deca::model::make_model(p.config.model, p.vocab);
  net->to(device);
  net->train();
  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (const auto& q : net->named_parameters(true)) named.emplace_back(q.key(), q.value());
  deca::Adam adam(named, deca::adam_options(p.config.training));
  std::vector<long> sizes;
  std::vector<std::unique_ptr<deca::TrainStream>> streams;
  for (size_t k = 0; k < tasks.size(); ++k) {
    sizes.push_back(static_cast<long>(p.train[k].encoded.size()));
    streams.push_back(std::make_unique<deca::TrainStream>(p.train[k].encoded, p.config.batching, 7, k));
  }
  deca::PhaseOptions phase;
  phase.tasks = tasks;
  const deca::TaskMixer mixer({phase}, tasks, sizes, 7);
  std::vector<deca::StreamPosition> pos(tasks.size());
  // The batches, made once: both passes train on the same ones.
  std::vector<deca::model::Batch> batches;
  std::vector<size_t> rows;
  for (long step = 1; step <= warmup + steps; ++step) {
    const auto pick = mixer.at(step);
    const auto r = streams[pick.task]->next(pos[pick.task]);
    batches.push_back(deca::model::make_batch(p.train[pick.task].encoded, r, p.vocab, device));
    rows.push_back(r.size());
  }
  // deca-train's step (forward, backward, Adam with the clipping to norm 1), at a constant rate.
  deca::TrainingStep training_step(*net, adam, device, bf16);
  constexpr double kRate = 1e-4;
  std::vector<double> step_s, fwd_s, bwd_s, opt_s;
  double tokens = 0, target_tokens = 0, examples = 0;
  for (long step = 1; step <= warmup + steps; ++step) {
    const auto& batch = batches[static_cast<size_t>(step - 1)];
    sync(device);
    const auto t0 = Clock::now();
    auto mark = t0;
    double f = 0, b = 0, o = 0;
    training_step.run({batch}, batch.target_tokens, step, kRate, [&](deca::TrainingStep::Phase phase) {
      sync(device);
      const double seconds = since(mark);
      mark = Clock::now();
      (phase == deca::TrainingStep::Phase::forward    ? f
       : phase == deca::TrainingStep::Phase::backward ? b
                                                      : o) = seconds;
    });
    if (step <= warmup) continue;
    step_s.push_back(since(t0));
    fwd_s.push_back(f);
    bwd_s.push_back(b);
    opt_s.push_back(o);
    tokens += static_cast<double>(batch.input_tokens);
    target_tokens += static_cast<double>(batch.target_tokens);
    examples += static_cast<double>(rows[static_cast<size_t>(step - 1)]);
  }
  // As training runs: the host queues work, the device is waited for once.
  auto train_steps = [&](long from, long to) {
    for (long step = from; step <= to; ++step) {
      const auto& batch = batches[static_cast<size_t>(step - 1)];
      training_step.run({batch}, batch.target_tokens, step, kRate);
    }
    sync(device);
  };
  sync(device);
  const auto t0 = Clock::now();
  train_steps(warmup + 1, warmup + steps);
  const double pipelined = since(t0);
  // The training's peak memory, before the profiler's passes hold their events
  // (a process-wide peak, as /usr/bin/time sees it, includes them: measure
  // memory without --flops and --profile).
  const double training_peak_rss_mb = peak_rss_mb();
  // The work of the measured steps, counted on a third pass over them, one
  // step at a time (the profiler keeps every operator's shapes until it stops).
  double flops = 0;
  if (count_flops)
    for (long step = warmup + 1; step <= warmup + steps; ++step)
      flops += counted_flops([&] { train_steps(step, step); });
  // The trace, of a few steps more (outside the timed passes).
  const long traced = std::min(steps, 3L);
  double gpu_busy = 0;
  if (!profile.empty()) {
    KinetoTrace trace(profile, device);
    train_steps(warmup + 1, warmup + traced);
    gpu_busy = trace.finish();
  }
  auto sum = [](const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); };
  auto sorted = step_s;
  std::sort(sorted.begin(), sorted.end());
  const double total = sum(step_s);
  std::string names;
  for (const auto& t : tasks) names += (names.empty() ? "" : ",") + t;
  nlohmann::ordered_json j{{"bench", "train"},
                           {"device", device.str()},
                           {"precision", p.config.training.precision},
                           {"optimizer_state", p.config.training.optimizer_state},
                           {"tasks", names},
                           {"max_tokens", p.config.batching.max_tokens},
                           {"size_rule", p.config.batching.size_rule},
                           {"steps", steps},
                           {"threads", torch::get_num_threads()},
                           {"parameters", deca::model::parameter_count(*net)},
                           {"vocab", p.vocab.size},
                           {"tokenizer", vocabulary.file},
                           {"seconds_per_step_median", sorted[sorted.size() / 2]},
                           {"seconds_per_step_min", sorted.front()},
                           {"tokens_per_step", tokens / static_cast<double>(steps)},
                           {"tokens_per_s", tokens / pipelined},
                           {"examples_per_s", examples / pipelined},
                           {"target_tokens_per_s", target_tokens / pipelined},
                           {"steps_per_s", static_cast<double>(steps) / pipelined},
                           {"steps_per_s_synchronised", static_cast<double>(steps) / total},
                           {"hours_for_500k_steps", 500000.0 * pipelined / static_cast<double>(steps) / 3600.0},
                           {"forward_share", sum(fwd_s) / total},
                           {"backward_share", sum(bwd_s) / total},
                           {"optimizer_share", sum(opt_s) / total},
                           {"peak_rss_mb", training_peak_rss_mb}};
  if (count_flops) {
    j["gflops_per_step"] = flops / static_cast<double>(steps) / 1e9;
    j["gflops_per_s"] = flops / pipelined / 1e9;
    if (device.is_cpu()) {
      const double sgemm = sgemm_flops_per_s();
      j["sgemm_gflops_per_s"] = sgemm / 1e9;
      j["share_of_sgemm"] = flops / pipelined / sgemm;
    }
  }
  if (!profile.empty()) {
    j["trace"] = profile;
    j["traced_steps"] = traced;
    if (device.is_cuda()) j["gpu_busy_share"] = gpu_busy;
  }
  emit(j, device);
  return 0;
}

// Decoding speed on a validation split: batched (token budget) against one example at a time.
int bench_decode(deca::Config config, const std::string& task_name, long beam, long limit, long train_steps,
                 const std::string& output_precision, const std::string& profile, int concurrent_batches,
                 bool batched_only) {
  // A model of the decathlon's size: the tokenizer of the ten tasks.
  auto p = prepare(std::move(config), {task_name}, vocabulary_source(deca::decathlon_tasks()));
  const torch::Device device = device_of(p.config);
  torch::manual_seed(1);
  auto net = deca::model::make_model(p.config.model, p.vocab);
  net->to(device);
  if (train_steps > 0) {
    // A briefly trained model stops early, as decaNLP's "after 150 iterations" row.
    std::vector<std::pair<std::string, torch::Tensor>> named;
    for (const auto& q : net->named_parameters(true)) named.emplace_back(q.key(), q.value());
    deca::Adam adam(named, {});
    deca::TrainingStep training_step(*net, adam, device, false);
    deca::TrainStream stream(p.train[0].encoded, p.config.batching, 3, 0);
    deca::StreamPosition pos;
    for (long s = 1; s <= train_steps; ++s) {
      const auto batch = deca::model::make_batch(p.train[0].encoded, stream.next(pos), p.vocab, device);
      training_step.run({batch}, batch.target_tokens, s, 1e-3);
    }
  }
  net->eval();
  const auto split = deca::read_eval_split(p.config, deca::find_task(task_name, p.config.data.data_root),
                                           deca::Split::Validation, *p.tokenizer, {limit, {}});
  const auto& data = split.encoded;
  const deca::Predictor predictor{net, p.tokenizer, p.vocab, device};
  auto o = deca::EvalOptions::from(p.config);
  o.decode.beam = beam;
  deca::app::apply_output_precision(output_precision, o.decode);
  std::vector<long> budgets = {p.config.batching.eval_max_tokens};
  if (!batched_only) budgets.push_back(1);
  for (long budget : budgets) {
    o.max_tokens = budget;
    o.concurrent_batches = budget == 1 ? 1 : concurrent_batches;  // one at a time measures latency
    std::optional<KinetoTrace> trace;                             // of the batched pass
    if (!profile.empty() && budget != 1) trace.emplace(profile, device);
    const auto r = deca::predict_split(predictor, data, o);
    if (trace) trace->finish();
    emit({{"bench", "decode"},
          {"device", device.str()},
          {"task", task_name},
          {"beam", beam},
          {"trained_steps", train_steps},
          {"output_precision", output_precision},
          {"concurrent_batches", o.concurrent_batches},
          {"batching", budget == 1 ? "one example at a time" : "token budget " + std::to_string(budget)},
          {"examples", data.size()},
          {"seconds", r.seconds},
          {"examples_per_s", static_cast<double>(data.size()) / r.seconds},
          {"generated_tokens_per_s", static_cast<double>(r.generated_tokens) / r.seconds}},
         device);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"deca-bench: speed and memory measurements"};
  cli.require_subcommand(1);
  std::string shared = "../shared", config_file = "configs/decanlp.json", data_root, output = "runs/bench",
              task = "squad";
  std::vector<std::string> tasks, sets;
  std::string profile, device, precision, output_precision = "fp32", vocabulary = "run";
  bool flops = false;
  long steps = 10, warmup = 2, max_tokens = 0, beam = 1, limit = 0, trained = 0, threads = 0;
  int concurrent_batches = 0;
  bool batched_only = false;
  auto* m = cli.add_subcommand("metrics", "scoring speed");
  m->add_option("--shared", shared, "the shared folder (data/ inside)")->capture_default_str();
  auto* t = cli.add_subcommand("train", "training speed of a config's model");
  auto* d = cli.add_subcommand("decode", "decoding speed, batched and one example at a time");
  for (auto* sub : {t, d}) {
    sub->add_option("--config", config_file, "config file")->capture_default_str();
    sub->add_option("--data-root", data_root, "data folder")->required();
    sub->add_option("--output", output, "folder for the tokenizer and cache")->capture_default_str();
    sub->add_option("--set", sets, "config overrides");
    sub->add_option("--threads", threads, "torch threads (0: all cores)");
    sub->add_option("--device", device, "cpu, cuda or cuda:N (default: the config's training.device)");
  }
  t->add_option("--precision", precision, "fp32, tf32 or bf16 (default: the config's training.precision)");
  t->add_option("--tasks", tasks, "tasks mixed round-robin (default: the config's)");
  t->add_option(
       "--vocabulary", vocabulary,
       "the tasks the tokenizer is trained on: run (the tasks trained, as deca-train does) or decathlon (the ten)")
      ->check(CLI::IsMember({"run", "decathlon"}))
      ->capture_default_str();
  t->add_option("--max-tokens", max_tokens, "batch token budget (default: the config's)");
  t->add_option("--steps", steps, "measured steps")->capture_default_str();
  t->add_option("--warmup", warmup, "unmeasured steps first")->capture_default_str();
  t->add_flag(
      "--flops", flops,
      "count the steps' floating-point operations (an extra pass) and set their rate beside this machine's sgemm rate");
  t->add_option("--profile", profile,
                "write a Kineto trace (Chrome format; GPU kernels on CUDA) of the first 3 measured steps to this file");
  d->add_option("--task", task, "task")->capture_default_str();
  d->add_option("--beam", beam, "beam size")->capture_default_str();
  d->add_option("--limit", limit, "decode at most this many examples");
  d->add_option("--trained-steps", trained, "train this many steps first (0: untrained)");
  d->add_option("--concurrent-batches", concurrent_batches,
                "batches decoded at once, a thread each (0: one per thread on the CPU, one on a GPU)")
      ->capture_default_str();
  d->add_flag("--batched-only", batched_only, "skip the pass that decodes one example at a time");
  deca::app::add_output_precision(*d, output_precision);
  d->add_option("--profile", profile, "write a trace (Chrome format) of the batched pass to this file");
  deca::app::setup_logging(false);
  return deca::app::run(cli, argc, argv, [&] {
    if (*m) return bench_metrics(shared);
    torch::set_num_threads(static_cast<int>(threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency())));
    auto config = deca::load_config(config_file);
    sets.push_back("data.data_root=" + nlohmann::json(data_root).dump());
    sets.push_back("output=" + nlohmann::json(output).dump());
    if (max_tokens > 0) sets.push_back("batching.max_tokens=" + std::to_string(max_tokens));
    if (!device.empty()) sets.push_back("training.device=" + nlohmann::json(device).dump());
    if (!precision.empty()) sets.push_back("training.precision=" + nlohmann::json(precision).dump());
    config = deca::apply_overrides(config, sets);
    if (*t) {
      if (tasks.empty()) tasks = config.all_tasks();
      const auto source = vocabulary_source(vocabulary == "run" ? tasks : deca::decathlon_tasks());
      return bench_train(config, tasks, source, steps, warmup, profile, flops);
    }
    return bench_decode(config, task, beam, limit, trained, output_precision, profile, concurrent_batches,
                        batched_only);
  });
}
