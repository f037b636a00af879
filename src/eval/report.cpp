#include "deca/eval/report.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include <algorithm>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/core/version.h"
#include "deca/tasks/task.h"

namespace deca {
namespace {

std::string fixed(double v, int decimals = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace

TaskResult score_task(const Task& task, const std::vector<std::string>& predictions, const std::vector<Example>& golds,
                      double seconds) {
  TaskResult r;
  r.task = task.name();
  r.values = task.score(predictions, golds);
  r.decascore_metric = task.scoring().decascore_metric;
  r.decascore_entry = task.decascore_entry(r.values);
  r.examples = static_cast<long>(golds.size());
  r.seconds = seconds;
  return r;
}

void EvalReport::add(TaskResult result) {
  // The sum of the entries as they are reported (each by its own task's
  // metric: a tagging task's entity_f1, not a default nF1).
  decascore += result.decascore_entry;
  tasks.push_back(std::move(result));
}

long EvalReport::decathlon_tasks_scored() const {
  const auto& ten = decathlon_tasks();
  return std::count_if(tasks.begin(), tasks.end(),
                       [&](const TaskResult& t) { return std::find(ten.begin(), ten.end(), t.task) != ten.end(); });
}

std::string EvalReport::decascore_label() const {
  const long ten = static_cast<long>(decathlon_tasks().size()), scored = decathlon_tasks_scored();
  const long others = static_cast<long>(tasks.size()) - scored;
  if (scored == ten && others == 0) return "decaScore";
  std::string label = "decaScore (" + std::to_string(scored) + " of " + std::to_string(ten) + " tasks";
  if (others > 0) label += " + " + std::to_string(others) + " other" + (others == 1 ? "" : "s");
  return label + ")";
}

Threshold parse_threshold(const std::string& spec, const std::string& option) {
  const size_t eq = spec.find('=');
  if (eq == std::string::npos)
    throw ConfigError(option + " expects task.metric=value or decascore=value, got \"" + spec + "\"");
  Threshold t;
  t.text = spec;
  t.option = option;
  const std::string key = spec.substr(0, eq);
  try {
    size_t used = 0;
    t.value = std::stod(spec.substr(eq + 1), &used);
    if (used != spec.size() - eq - 1) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    throw ConfigError(option + " " + spec + ": \"" + spec.substr(eq + 1) + "\" is not a number");
  }
  if (!std::isfinite(t.value)) throw ConfigError(option + " " + spec + ": the value must be a finite number");
  if (key == "decascore") {
    t.metric = "decascore";
    return t;
  }
  const size_t dot = key.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == key.size())
    throw ConfigError(option + " " + spec + ": expected task.metric=value (e.g. squad.nf1=70) or decascore=value");
  t.task = key.substr(0, dot);
  t.metric = key.substr(dot + 1);
  return t;
}

void check_thresholds(const std::vector<Threshold>& thresholds,
                      const std::vector<std::pair<std::string, std::vector<std::string>>>& tasks) {
  for (const auto& t : thresholds) {
    if (t.task.empty()) continue;
    auto it = std::find_if(tasks.begin(), tasks.end(), [&](const auto& x) { return x.first == t.task; });
    if (it == tasks.end()) {
      std::string names;
      for (const auto& x : tasks) names += (names.empty() ? "" : ", ") + x.first;
      throw ConfigError(t.option + " " + t.text + ": task " + t.task + " is not evaluated (tasks: " + names + ")");
    }
    if (std::find(it->second.begin(), it->second.end(), t.metric) == it->second.end()) {
      std::string names;
      for (const auto& m : it->second) names += (names.empty() ? "" : ", ") + m;
      throw ConfigError(t.option + " " + t.text + ": task " + t.task + " has no metric " + t.metric + " (it reports " +
                        names + ")");
    }
  }
}

std::optional<double> PreviousReport::get(const std::string& task, const std::string& metric) const {
  const nlohmann::json* v = nullptr;
  if (task.empty()) {
    v = &json["decascore"]["total"];
  } else {
    const auto& tasks = json["tasks"];
    if (!tasks.contains(task) || !tasks[task].is_object() || !tasks[task].contains(metric)) return std::nullopt;
    v = &tasks[task][metric];
  }
  if (!v->is_number()) return std::nullopt;
  return v->get<double>();
}

PreviousReport read_previous_report(const std::string& path) {
  require_file(path, "");
  PreviousReport r{path, {}};
  try {
    r.json = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw DataError(path + ": not JSON (a report of deca-eval --report-json, or its standard output): " + e.what());
  }
  const bool report = r.json.is_object() && r.json.contains("tasks") && r.json["tasks"].is_object() &&
                      r.json.contains("decascore") && r.json["decascore"].is_object() &&
                      r.json["decascore"].contains("total") && r.json["decascore"]["total"].is_number();
  if (!report)
    throw DataError(path + ": not a deca-eval report (expected \"tasks\" and \"decascore\".\"total\", as " +
                    "--report-json writes them)");
  return r;
}

void check_drops(const std::vector<Threshold>& max_drops, const PreviousReport& previous) {
  for (const auto& d : max_drops) {
    if (d.value < 0) throw ConfigError(d.option + " " + d.text + ": the allowed drop must be 0 or more");
    if (previous.get(d.task, d.metric)) continue;
    std::string has;
    if (previous.json["tasks"].contains(d.task))
      for (const auto& [k, v] : previous.json["tasks"][d.task].items()) has += (has.empty() ? "" : ", ") + k;
    throw ConfigError(d.option + " " + d.text + ": " + previous.source + " has no " + d.task + " " + d.metric +
                      (has.empty() ? " (nor task " + d.task + ")" : " (its " + d.task + " has " + has + ")"));
  }
}

std::optional<double> EvalReport::value_of(const std::string& task, const std::string& metric) const {
  if (task.empty()) return decascore;
  for (const auto& t : tasks)
    if (t.task == task) return t.values.get(metric);
  return std::nullopt;
}

void EvalReport::check(const std::vector<Threshold>& thresholds) {
  for (const auto& t : thresholds) {
    if (t.task.empty()) {
      if (decascore < t.value)
        failures.push_back("decaScore " + fixed(decascore, 4) + " is below " + fixed(t.value, 4));
      continue;
    }
    const TaskResult* r = nullptr;
    for (const auto& x : tasks)
      if (x.task == t.task) r = &x;
    if (!r) throw ConfigError(t.option + " " + t.text + ": task " + t.task + " was not evaluated");
    const auto v = r->values.get(t.metric);
    if (!v) throw ConfigError(t.option + " " + t.text + ": task " + t.task + " has no metric " + t.metric);
    if (*v < t.value)
      failures.push_back(t.task + " " + t.metric + " " + fixed(*v, 4) + " is below " + fixed(t.value, 4));
  }
}

void EvalReport::compare_with(const PreviousReport& previous, const std::vector<Threshold>& max_drops) {
  ReportComparison c;
  c.previous = previous.source;
  for (const auto& t : tasks) {
    if (!previous.json["tasks"].contains(t.task)) {
      c.new_tasks.push_back(t.task);
      continue;
    }
    for (const auto& [metric, now] : t.values.items())
      if (const auto before = previous.get(t.task, metric)) c.changes.push_back({t.task, metric, *before, now});
  }
  for (const auto& [task, values] : previous.json["tasks"].items())
    if (std::none_of(tasks.begin(), tasks.end(), [&](const TaskResult& t) { return t.task == task; }))
      c.dropped_tasks.push_back(task);
  c.changes.push_back({"", "decascore", *previous.get("", "decascore"), decascore});
  comparison = c;
  check_drops(max_drops, previous);
  for (const auto& d : max_drops) {
    const auto now = value_of(d.task, d.metric);
    if (!now) throw ConfigError(d.option + " " + d.text + ": this evaluation has no " + d.task + " " + d.metric);
    const double before = *previous.get(d.task, d.metric);
    if (before - *now > d.value)
      failures.push_back((d.task.empty() ? "decaScore" : d.task + " " + d.metric) + " fell by " +
                         fixed(before - *now, 4) + " (from " + fixed(before, 4) + " to " + fixed(*now, 4) +
                         "), more than the " + fixed(d.value, 4) + " allowed (" + d.option + ")");
  }
}

bool EvalReport::any_zero_shot() const {
  return std::any_of(tasks.begin(), tasks.end(), [](const TaskResult& t) { return t.seen_in_training == false; });
}

std::string EvalReport::name_of(const TaskResult& t) { return t.seen_in_training == false ? t.task + "*" : t.task; }

nlohmann::ordered_json EvalReport::to_json() const {
  nlohmann::ordered_json j;
  j["split"] = split;
  j["tasks"] = nlohmann::ordered_json::object();
  for (const auto& t : tasks) j["tasks"][t.task] = t.values.to_json();
  j["decascore"]["total"] = decascore;
  j["decascore"]["label"] = decascore_label();
  j["decascore"]["decathlon_tasks"] = decathlon_tasks_scored();
  j["decascore"]["complete"] = decascore_label() == "decaScore";
  j["decascore"]["entries"] = nlohmann::ordered_json::object();
  for (const auto& t : tasks) j["decascore"]["entries"][t.task] = t.decascore_entry;
  for (const auto& t : tasks)
    if (t.seen_in_training) j["seen_in_training"][t.task] = *t.seen_in_training;
  if (!failures.empty()) j["failures"] = failures;
  if (max_examples > 0) j["subset"] = {{"max_examples", max_examples}, {"note", subset_note()}};
  if (!checkpoint.is_null()) j["checkpoint"] = checkpoint;
  if (comparison) {
    auto& c = j["comparison"];
    c["previous"] = comparison->previous;
    c["changes"] = nlohmann::ordered_json::array();
    for (const auto& m : comparison->changes)
      c["changes"].push_back({{"task", m.task.empty() ? "decascore" : m.task},
                              {"metric", m.metric},
                              {"previous", m.previous},
                              {"now", m.now},
                              {"change", m.now - m.previous}});
    c["new_tasks"] = comparison->new_tasks;
    c["dropped_tasks"] = comparison->dropped_tasks;
  }
  j["scored_by"] = {{"version", version()}, {"commit", build_commit()}};
  return j;
}

std::string EvalReport::provenance() const {
  std::string s = "Scored by " + version_line();
  if (checkpoint.is_null()) return s + ".";
  s += "; checkpoint " + checkpoint.value("path", std::string("?")) + " (step " +
       std::to_string(checkpoint.value("step", 0L)) + ")";
  const auto by = checkpoint.find("trained_by");
  if (by != checkpoint.end() && by->contains("version"))
    s += ", trained by deca " + by->value("version", std::string("?")) + " (commit " +
         by->value("commit", std::string("?")) + ")";
  return s + ".";
}

std::string EvalReport::subset_note() const {
  return "a subset: the first " + std::to_string(max_examples) +
         " examples of each task (--max-examples), not the whole " +
         (split.empty() ? std::string("split") : split + " split");
}

std::string EvalReport::table() const {
  std::ostringstream o;
  char line[256];
  std::snprintf(line, sizeof line, "%-18s %-16s %9s %9s   %s\n", "task", "decaScore metric", "value", "examples",
                "all metrics");
  o << line;
  for (const auto& t : tasks) {
    std::string all;
    for (const auto& [k, v] : t.values.items()) all += (all.empty() ? "" : " ") + k + "=" + fixed(v);
    std::snprintf(line, sizeof line, "%-18s %-16s %9.2f %9ld   ", name_of(t).c_str(), t.decascore_metric.c_str(),
                  t.decascore_entry, t.examples);
    o << line << all << "\n";
  }
  std::snprintf(line, sizeof line, "%-35s %9.2f\n", (decascore_label() + ", sum").c_str(), decascore);
  o << line;
  if (any_zero_shot()) o << "* zero-shot: the model was not trained on this task\n";
  if (max_examples > 0) o << subset_note() << "\n";
  if (comparison) {
    o << "\ncompared with " << comparison->previous << ":\n";
    std::snprintf(line, sizeof line, "%-18s %-16s %9s %9s %9s\n", "task", "metric", "previous", "now", "change");
    o << line;
    for (const auto& m : comparison->changes) {
      std::snprintf(line, sizeof line, "%-18s %-16s %9.2f %9.2f %+9.2f\n",
                    (m.task.empty() ? decascore_label() : m.task).c_str(), m.task.empty() ? "sum" : m.metric.c_str(),
                    m.previous, m.now, m.now - m.previous);
      o << line;
    }
    o << comparison_note("\n");
  }
  for (const auto& f : failures) o << "FAILED: " << f << "\n";
  o << provenance() << "\n";
  return o.str();
}

std::string EvalReport::comparison_note(const std::string& end) const {
  std::string note;
  auto names = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  };
  if (!comparison->new_tasks.empty()) note += "only in this report: " + names(comparison->new_tasks) + end;
  if (!comparison->dropped_tasks.empty())
    note += "only in " + comparison->previous + ": " + names(comparison->dropped_tasks) + end;
  if (!note.empty()) note += "(the two decaScores sum different tasks)" + end;
  return note;
}

std::string EvalReport::markdown() const {
  std::ostringstream o;
  o << "| task | metric | value | examples | all metrics |\n|---|---|---:|---:|---|\n";
  for (const auto& t : tasks) {
    std::string all;
    for (const auto& [k, v] : t.values.items()) all += (all.empty() ? "" : ", ") + k + " " + fixed(v);
    o << "| " << name_of(t) << " | " << t.decascore_metric << " | " << fixed(t.decascore_entry) << " | " << t.examples
      << " | " << all << " |\n";
  }
  o << "| **" << decascore_label() << "** | sum | **" << fixed(decascore) << "** | | |\n";
  if (any_zero_shot()) o << "\n\\* zero-shot: the model was not trained on this task\n";
  if (max_examples > 0) o << "\n" << subset_note() << "\n";
  if (comparison) {
    o << "\nCompared with `" << comparison->previous
      << "`:\n\n| task | metric | previous | now | change |\n|---|---|---:|---:|---:|\n";
    for (const auto& m : comparison->changes)
      o << "| " << (m.task.empty() ? decascore_label() : m.task) << " | " << (m.task.empty() ? "sum" : m.metric)
        << " | " << fixed(m.previous) << " | " << fixed(m.now) << " | " << (m.now >= m.previous ? "+" : "")
        << fixed(m.now - m.previous) << " |\n";
    const std::string note = comparison_note("\n");
    if (!note.empty()) o << "\n" << note;
  }
  if (!failures.empty()) {
    o << "\nFailed thresholds:\n\n";
    for (const auto& f : failures) o << "- " << f << "\n";
  }
  o << "\n" << provenance() << "\n";
  return o.str();
}

std::string EvalReport::junit() const {
  // One test case per task and one for the decaScore; a missed threshold is a
  // <failure> of its case.
  auto failures_of = [&](const std::string& prefix) {
    std::vector<std::string> out;
    for (const auto& f : failures)
      if (f.rfind(prefix + " ", 0) == 0) out.push_back(f);
    return out;
  };
  std::ostringstream cases;
  size_t failed = 0;
  double total_time = 0;
  auto add_case = [&](const std::string& name, double seconds, const std::string& out,
                      const std::vector<std::string>& fails) {
    cases << "    <testcase classname=\"deca." << xml_escape(split) << "\" name=\"" << xml_escape(name) << "\" time=\""
          << fixed(seconds, 3) << "\">\n";
    for (const auto& f : fails)
      cases << "      <failure message=\"" << xml_escape(f) << "\" type=\"threshold\">" << xml_escape(f)
            << "</failure>\n";
    cases << "      <system-out>" << xml_escape(out) << "</system-out>\n    </testcase>\n";
    failed += fails.empty() ? 0 : 1;
    total_time += seconds;
  };
  for (const auto& t : tasks) {
    std::string out;
    for (const auto& [k, v] : t.values.items()) out += k + "=" + fixed(v, 4) + "\n";
    add_case(t.task, t.seconds, out, failures_of(t.task));
  }
  add_case("decascore", 0, "decascore=" + fixed(decascore, 4) + "\n", failures_of("decaScore"));
  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"deca-eval\" tests=\""
    << tasks.size() + 1 << "\" failures=\"" << failed << "\" errors=\"0\" time=\"" << fixed(total_time, 3) << "\">\n";
  o << "    <properties>\n";
  auto property = [&](const std::string& name, const std::string& value) {
    o << "      <property name=\"" << name << "\" value=\"" << xml_escape(value) << "\"/>\n";
  };
  property("deca_version", version());
  property("deca_commit", build_commit());
  if (!checkpoint.is_null()) property("checkpoint", provenance());
  if (max_examples > 0) {
    property("max_examples", std::to_string(max_examples));
    property("subset", subset_note());
  }
  o << "    </properties>\n";
  o << cases.str() << "  </testsuite>\n</testsuites>\n";
  return o.str();
}

}  // namespace deca
