// The task registry: each decathlon task is a reader of its original files, the
// gold form its metric scores against, and the metrics it reports. Adding a task
// is one reader file and one entry in src/tasks/registry.cpp.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "deca/metrics/metrics.h"
#include "deca/tasks/example.h"

namespace deca {

struct ReadOptions {
  // false: the first malformed record is an error naming file and line.
  // true: malformed records are skipped, counted and reported.
  bool skip_bad_records = false;
};

struct ReadReport {
  long skipped = 0;                   // malformed records skipped
  std::vector<std::string> problems;  // one line per skipped record (file:line: what)
};

// Everything a reader needs; `bad()` applies the fail-or-skip policy.
class ReadContext {
 public:
  ReadContext(std::filesystem::path data_root, std::string task, Split split, ReadOptions options, ReadReport* report);

  const std::filesystem::path& data_root() const { return data_root_; }
  const std::string& task() const { return task_; }
  Split split() const { return split_; }

  // A malformed record at file:line (line 0: no line). Throws DataError unless
  // skipping is on; then records the problem and returns.
  void bad(const std::filesystem::path& file, long line, const std::string& what) const;

 private:
  std::filesystem::path data_root_;
  std::string task_;
  Split split_;
  ReadOptions options_;
  ReadReport* report_;
};

using Reader = std::function<std::vector<Example>(const ReadContext&)>;

// Which metrics a task reports and which one enters the decaScore.
struct Scoring {
  bool bleu = false, rouge = false, corpus_f1 = false, logical_form = false, dialogue = false;
  // Gold strings are lowercased before scoring (decaNLP scores the lowercased
  // field round trip for every task except SQuAD, QA-SRL and WOZ).
  bool lowercase_golds = true;
  std::string decascore_metric = "em";
  // Tagging tasks: the separator of an answer's entities; entity_f1,
  // entity_precision and entity_recall are scored as conlleval counts them.
  // Empty for the other tasks.
  std::string entity_separator;
};

class Task {
 public:
  Task(std::string name, std::string description, std::vector<Split> splits, Reader reader, Scoring scoring,
       std::string how_to_get);

  const std::string& name() const { return name_; }
  const std::string& description() const { return description_; }
  const std::vector<Split>& splits() const { return splits_; }
  bool has_split(Split s) const;
  const Scoring& scoring() const { return scoring_; }
  const std::string& how_to_get() const { return how_to_get_; }

  // Reads one split from the task's original files under `data_root`.
  std::vector<Example> read(const std::filesystem::path& data_root, Split split, const ReadOptions& options = {},
                            ReadReport* report = nullptr) const;

  // The strings EM/nEM/nF1/BLEU/ROUGE/cF1 compare a prediction with.
  std::vector<std::string> scored_answers(const Example& ex) const;

  // All of the task's metrics, in decaNLP's order, for predictions aligned with `golds`.
  metrics::MetricValues score(const std::vector<std::string>& predictions, const std::vector<Example>& golds) const;

  // The names of the metrics score() reports, in its order.
  std::vector<std::string> metric_names() const;

  // The value of the decaScore metric in `values`.
  double decascore_entry(const metrics::MetricValues& values) const;

 private:
  std::string name_, description_;
  std::vector<Split> splits_;
  Reader reader_;
  Scoring scoring_;
  std::string how_to_get_;
};

// The task called `name`: one of the decathlon names (squad, squad2.0,
// iwslt.<src>.<tgt>, cnn_dailymail, cnn, dailymail, multinli.<in|out|...>, sst,
// srl, zre, woz.<lang>, wikisql, schema) or, when `data_root/name` holds
// train/validation/test JSONL files, a custom task. Throws ConfigError for an
// unknown name.
std::shared_ptr<const Task> find_task(const std::string& name, const std::filesystem::path& data_root = {});

// Says which data root a command reads, before it reads anything: an info
// line with its full path, and a warning where it is deca's embedded sample
// (a folder holding kSampleMarker: made-up examples whose scores mean
// nothing). A ConfigError where it is not a folder, naming the current folder
// when the path is relative.
void announce_data_root(const std::filesystem::path& data_root);
inline constexpr const char* kSampleMarker = "SAMPLE.md";

// The ten decathlon tasks in decaNLP's order.
const std::vector<std::string>& decathlon_tasks();

// The decaScore: the plain sum of each task's decaScore metric, in task order.
double decascore(const std::vector<std::pair<std::string, metrics::MetricValues>>& per_task,
                 std::vector<std::pair<std::string, double>>* entries = nullptr);

}  // namespace deca
