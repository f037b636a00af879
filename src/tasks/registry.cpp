// The task registry: names -> reader, splits, scoring. One entry per task.
#include <map>

#include "deca/core/config.h"
#include "deca/core/error.h"
#include "deca/core/log.h"
#include "deca/core/suggest.h"
#include "deca/tasks/task.h"
#include "deca/text/strings.h"
#include "readers/readers.h"

namespace fs = std::filesystem;

namespace deca {
namespace {

const std::vector<Split> kAllSplits = {Split::Train, Split::Validation, Split::Test};
const std::vector<Split> kNoTest = {Split::Train, Split::Validation};

std::vector<std::string> dotted(const std::string& name) { return text::split(name, '.'); }

Scoring scoring(const std::string& metric, bool lowercase_golds = true) {
  Scoring s;
  s.decascore_metric = metric;
  s.lowercase_golds = lowercase_golds;
  return s;
}

std::shared_ptr<const Task> make(const std::string& name, const fs::path& data_root) {
  using namespace readers;
  if (name == "squad" || name == "squad2.0") {
    const bool v2 = name == "squad2.0";
    return std::make_shared<Task>(
        name, "question answering (SQuAD " + std::string(v2 ? "2.0" : "v1.1") + ")", kNoTest,
        [v2](const ReadContext& c) { return squad(c, v2); }, scoring("nf1", false),
        "rajpurkar.github.io/SQuAD-explorer");
  }
  const auto parts = dotted(name);
  if (parts[0] == "iwslt" && parts.size() == 3) {
    Scoring s = scoring("bleu");
    s.bleu = true;
    const std::string src = parts[1], trg = parts[2];
    return std::make_shared<Task>(
        name, "machine translation (IWSLT 2016 " + src + "->" + trg + ")", kAllSplits,
        [src, trg](const ReadContext& c) { return iwslt(c, src, trg); }, s, "WIT3 2016-01 release");
  }
  if (name == "cnn_dailymail" || name == "cnn" || name == "dailymail") {
    Scoring s = scoring("avg_rouge");
    s.rouge = true;
    std::vector<std::string> sources =
        name == "cnn_dailymail" ? std::vector<std::string>{"cnn", "dailymail"} : std::vector<std::string>{name};
    return std::make_shared<Task>(
        name, "summarization (CNN/DailyMail)", kAllSplits,
        [sources](const ReadContext& c) { return cnn_dailymail(c, sources); }, s,
        "abisee/cnn-dailymail url lists + story archives");
  }
  if (parts[0] == "multinli" && parts.size() >= 2) {
    std::vector<std::string> subtasks(parts.begin() + 1, parts.end());
    for (const auto& s : subtasks)
      if (s != "in" && s != "out")
        throw ConfigError("task " + name + ": MultiNLI subtasks are \"in\" (matched) and \"out\" (mismatched)");
    return std::make_shared<Task>(
        name, "natural language inference (MultiNLI)", kNoTest,
        [subtasks](const ReadContext& c) { return multinli(c, subtasks); }, scoring("em"),
        "cims.nyu.edu/~sbowman/multinli");
  }
  if (name == "sst")
    return std::make_shared<Task>(name, "sentiment analysis (SST binary)", kAllSplits, readers::sst, scoring("em"),
                                  "openai/generating-reviews-discovering-sentiment");
  if (name == "srl")
    return std::make_shared<Task>(name, "semantic role labeling (QA-SRL)", kAllSplits, readers::srl,
                                  scoring("nf1", false), "dada.cs.washington.edu/qasrl");
  if (name == "zre") {
    Scoring s = scoring("corpus_f1");
    s.corpus_f1 = true;
    return std::make_shared<Task>(name, "zero-shot relation extraction (QA-ZRE)", kAllSplits, readers::zre, s,
                                  "nlp.cs.washington.edu/zeroshot");
  }
  if (parts[0] == "woz" && parts.size() == 2) {
    Scoring s = scoring("joint_goal_em", false);
    s.dialogue = true;
    const std::string lang = parts[1];
    if (lang != "en" && lang != "de") throw ConfigError("task " + name + ": WOZ languages are en and de");
    return std::make_shared<Task>(
        name, "goal-oriented dialogue (WOZ 2.0)", kAllSplits, [lang](const ReadContext& c) { return woz(c, lang); }, s,
        "nmrksic/neural-belief-tracker");
  }
  if (name == "wikisql") {
    Scoring s = scoring("lfem");
    s.logical_form = true;
    return std::make_shared<Task>(name, "semantic parsing (WikiSQL)", kAllSplits, readers::wikisql, s,
                                  "salesforce/WikiSQL");
  }
  if (name == "schema")
    return std::make_shared<Task>(name, "pronoun resolution (MWSC)", kAllSplits, readers::schema, scoring("em"),
                                  "decaNLP local_data/schema.txt");
  // A custom task: a folder of JSONL files under the data root.
  if (name.empty() || name.find('/') != std::string::npos || name[0] == '.')
    throw ConfigError("invalid task name \"" + name + "\"");
  if (!data_root.empty() && !fs::is_directory(data_root / name)) {
    std::string known;
    for (const auto& t : decathlon_tasks()) known += " " + t;
    const std::string near = nearest_name(name, decathlon_tasks());
    throw ConfigError("unknown task \"" + name + "\": not a decathlon task (" + known.substr(1) +
                      ", squad2.0, iwslt.<src>.<tgt>, woz.<lang>) and no folder " + (data_root / name).string() +
                      " with train/validation/test JSONL files" + (near.empty() ? "" : "; did you mean " + near + "?"));
  }
  if (!data_root.empty() && fs::exists(data_root / name / "task.json")) {
    auto spec = tagging_spec(data_root / name / "task.json");
    Scoring s = scoring("entity_f1");
    s.entity_separator = spec.separator;
    return std::make_shared<Task>(
        name, "tagging task (CoNLL columns, one question per entity type)", kAllSplits,
        [spec](const ReadContext& c) { return tagging(c, spec); }, s,
        "your own CoNLL column files and their task.json");
  }
  return std::make_shared<Task>(name, "custom task (JSONL)", kAllSplits, readers::custom, scoring("nf1"),
                                "your own {context, question, answer} JSONL files");
}

}  // namespace

std::shared_ptr<const Task> find_task(const std::string& name, const fs::path& data_root) {
  return make(name, data_root);
}

void announce_data_root(const fs::path& data_root) {
  std::error_code ec;
  if (!fs::is_directory(data_root, ec)) {
    const std::string where =
        data_root.is_relative() ? " (relative to the current folder " + fs::current_path().string() + ")" : "";
    throw ConfigError("data root " + data_root.string() + where + " is not a folder" +
                      (data_root == fs::path(DataOptions{}.data_root) ? ", and it is the default data.data_root" : "") +
                      ": give --data-root DIR, the folder with the tasks' original files (decaNLP's layout, see "
                      "README.md), or data/sample in deca's checkout for the made-up sample");
  }
  const fs::path full = fs::absolute(data_root).lexically_normal();
  if (fs::exists(data_root / kSampleMarker, ec))
    log::warn(
        "data root {}: deca's embedded sample, a few made-up examples per task, not the real data (scores on it "
        "mean nothing); give --data-root for the real data",
        full.string());
  else
    log::info("data root {}", full.string());
}

const std::vector<std::string>& decathlon_tasks() {
  static const std::vector<std::string> kTasks = {"squad", "iwslt.en.de", "cnn_dailymail", "multinli.in.out", "sst",
                                                  "srl",   "zre",         "woz.en",        "wikisql",         "schema"};
  return kTasks;
}

}  // namespace deca
