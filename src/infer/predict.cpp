#include "deca/infer/predict.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>

#include "deca/core/error.h"
#include "deca/core/log.h"
#include "deca/data/batching.h"
#include "deca/eval/files.h"
#include "deca/model/parallel.h"
#include "deca/tasks/task.h"

namespace deca {

EvalOptions EvalOptions::from(const Config& config) {
  EvalOptions o;
  o.max_tokens = config.batching.eval_max_tokens;
  o.size_rule = config.batching.size_rule;
  o.decode.max_length = config.model.max_output_length;
  return o;
}

SplitPredictions predict_split(const Predictor& p, const EncodedSplit& data, const EvalOptions& options,
                               const std::function<void(size_t, size_t)>& progress) {
  const auto start = std::chrono::steady_clock::now();
  auto& model = *p.model;
  const bool was_training = model.is_training();
  model.eval();
  SplitPredictions out;
  out.answers.resize(data.size());
  out.nbest.resize(data.size());
  // On the CPU, batches side by side, a thread each: a decoder step's many
  // small operations would leave the other cores idle within one batch. They
  // share the token budget, as beams do: it bounds what is in memory at once.
  const int workers = options.concurrent_batches > 0 ? options.concurrent_batches
                      : p.device.is_cpu()            ? at::get_num_threads()
                                                     : 1;
  const long budget = std::max<long>(1, options.max_tokens / std::max<int64_t>(1, options.decode.beam) / workers);
  const auto batches = eval_batches(data, budget, options.size_rule);
  std::vector<size_t> mine;  // the batches this process decodes
  for (size_t k = 0; k < batches.size(); ++k)
    if (options.shards <= 1 || static_cast<int>(k % static_cast<size_t>(options.shards)) == options.shard)
      mine.push_back(k);
  std::vector<std::vector<std::vector<model::Hypothesis>>> decoded(mine.size());
  std::atomic<size_t> next{0};
  std::mutex progress_mutex;
  size_t done = 0;
  model::run_workers(std::min<int>(workers, static_cast<int>(mine.size())), [&](int) {
    for (size_t j; (j = next++) < mine.size();) {
      const auto& rows = batches[mine[j]];
      const auto batch = model::make_batch(data, rows, p.vocab, p.device, /*with_answers=*/false);
      decoded[j] = model::decode(model, batch, p.vocab, options.decode);
      if (progress) {
        std::lock_guard<std::mutex> lock(progress_mutex);
        progress(done += rows.size(), data.size());
      }
    }
  });
  for (size_t j = 0; j < mine.size(); ++j) {
    const auto& rows = batches[mine[j]];
    for (size_t i = 0; i < rows.size(); ++i) {
      auto& h = decoded[j][i];
      if (!h.empty()) {
        out.answers[rows[i]] = p.tokenizer->decode_answer(h.front().tokens);
        out.generated_tokens += static_cast<long>(h.front().tokens.size());
      }
      out.nbest[rows[i]] = std::move(h);
    }
    out.rows.insert(out.rows.end(), rows.begin(), rows.end());
  }
  if (was_training) model.train();
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

SplitEvaluation evaluate_split(const Predictor& predictor, const TaskSplit& split, const EvalOptions& options) {
  SplitEvaluation e;
  e.predictions = predict_split(predictor, split.encoded, options);
  e.result = score_task(*split.task, e.predictions.answers, split.examples, e.predictions.seconds);
  return e;
}

EvalReport evaluate(const Predictor& predictor, const std::vector<TaskSplit>& splits, const EvalOptions& options,
                    const std::function<void(const TaskSplit&, const SplitEvaluation&)>& on_task) {
  EvalReport report;
  if (!splits.empty()) report.split = to_string(splits.front().split);
  for (const auto& split : splits) {
    auto e = evaluate_split(predictor, split, options);
    if (on_task) on_task(split, e);
    report.add(std::move(e.result));
  }
  return report;
}

EvalReport evaluate_checkpoint(const LoadedModel& loaded, const CheckpointEvaluation& request) {
  auto config = loaded.config;
  if (!request.data_root.empty()) config.data.data_root = request.data_root;
  announce_data_root(config.data.data_root);
  const auto names = request.tasks.empty() ? config.all_tasks() : request.tasks;
  check_unique_tasks(names);
  // Every name, split and threshold is checked before the first decoding.
  std::vector<std::shared_ptr<const Task>> selected;
  std::string skipped;
  for (const auto& name : names) {
    auto task = find_task(name, config.data.data_root);
    if (!task->has_split(request.split)) {
      log::warn("{} has no {} split (hidden test set): skipped", name, to_string(request.split));
      skipped += (skipped.empty() ? "" : ", ") + name;
      continue;
    }
    selected.push_back(std::move(task));
  }
  if (selected.empty())
    throw ConfigError("nothing to score: no task of " + skipped + " has a " + to_string(request.split) +
                      " split (hidden test set)");
  if (request.before_decoding) request.before_decoding(metrics_of(selected));
  log::info("checkpoint {} (step {}), {} tasks, {} split", loaded.dir.string(), loaded.step, selected.size(),
            to_string(request.split));
  auto options = EvalOptions::from(config);
  if (request.adjust) request.adjust(options);
  std::vector<TaskSplit> splits;
  for (const auto& task : selected)
    splits.push_back(
        read_eval_split(config, task, request.split, *loaded.predictor.tokenizer, {request.max_examples, {}}));
  auto report = evaluate(loaded.predictor, splits, options, [&](const TaskSplit& s, const SplitEvaluation& e) {
    if (!request.output.empty()) write_predictions(request.output, *s.task, s.examples, e.predictions.answers);
    log::info("{}: {} examples decoded in {:.1f} s ({:.1f} examples/s)", s.task->name(), s.examples.size(),
              e.result.seconds, e.result.seconds > 0 ? static_cast<double>(s.examples.size()) / e.result.seconds : 0.0);
  });
  report.split = to_string(request.split);
  report.max_examples = request.max_examples;
  report.checkpoint = {{"path", loaded.dir.string()}, {"step", loaded.step}, {"trained_by", loaded.trained_by}};
  for (auto& t : report.tasks) {
    t.seen_in_training = std::count(loaded.trained_tasks.begin(), loaded.trained_tasks.end(), t.task) > 0;
    if (!*t.seen_in_training) log::info("{}: not trained on (zero-shot)", t.task);
  }
  return report;
}

}  // namespace deca
