// Answering with a model: decoding a tokenized split (batches by token budget,
// sorted by length, answers returned in the split's order), and evaluating a
// model on tasks: the one evaluation path of training validation, deca-eval,
// deca-predict and deca-bench.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "deca/core/config.h"
#include "deca/data/encoded.h"
#include "deca/data/splits.h"
#include "deca/eval/report.h"
#include "deca/infer/checkpoint.h"
#include "deca/model/decode.h"

namespace deca {

// How a split is decoded.
struct EvalOptions {
  long max_tokens = 20000;  // token budget of the batches decoded at once (divided among them and the beams)
  std::string size_rule = "padded";
  model::DecodeOptions decode;
  // Several processes share the work: this one decodes every shards-th batch
  // from the shard-th (the batches a single process would decode, so the answers are the same).
  int shard = 0, shards = 1;
  // Batches decoded at once, each on one thread (0: on the CPU one per
  // intra-op thread, on a GPU one). With the same batches (max_tokens scaled
  // with it) the answers are the same.
  int concurrent_batches = 0;
  // From a config: its evaluation budget and size rule, greedy decoding up to model.max_output_length.
  static EvalOptions from(const Config& config);
};

struct SplitPredictions {
  std::vector<std::string> answers;                   // detokenized best answer per example
  std::vector<std::vector<model::Hypothesis>> nbest;  // per example, best first
  std::vector<uint32_t> rows;                         // the examples decoded: all of them unless sharded
  long generated_tokens = 0;
  double seconds = 0;
};

SplitPredictions predict_split(const Predictor& predictor, const EncodedSplit& data, const EvalOptions& options,
                               const std::function<void(size_t done, size_t total)>& progress = {});

struct SplitEvaluation {
  TaskResult result;             // the task's metrics and its decaScore entry
  SplitPredictions predictions;  // in the split's order
};

// Decodes `split` (examples and their encoding) and scores it with its task's metrics.
SplitEvaluation evaluate_split(const Predictor& predictor, const TaskSplit& split, const EvalOptions& options);

// Evaluates on each split in turn and returns the report (each task's result
// and the decaScore); `on_task` sees each split's evaluation as it is done
// (to write its predictions, to log it).
EvalReport evaluate(const Predictor& predictor, const std::vector<TaskSplit>& splits, const EvalOptions& options,
                    const std::function<void(const TaskSplit&, const SplitEvaluation&)>& on_task = {});

// A loaded checkpoint scored on tasks of a split (deca-eval --checkpoint).
struct CheckpointEvaluation {
  std::string data_root;           // empty: the checkpoint's
  std::vector<std::string> tasks;  // empty: the checkpoint's; others are scored zero-shot, marked so
  Split split = Split::Validation;
  long max_examples = 0;  // > 0: the first N examples of each task
  std::string output;     // non-empty: each task's answers as <task>.jsonl here
  // The command line's decoding options onto the checkpoint's.
  std::function<void(EvalOptions&)> adjust;
  // Each task's name and metric names, once known and before any decoding
  // (where thresholds are checked); tasks without the split (hidden test
  // sets) are skipped with a warning before.
  std::function<void(const std::vector<std::pair<std::string, std::vector<std::string>>>&)> before_decoding;
};
EvalReport evaluate_checkpoint(const LoadedModel& loaded, const CheckpointEvaluation& request);

}  // namespace deca
