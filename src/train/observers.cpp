#include "deca/train/observers.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <set>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/core/log.h"

namespace fs = std::filesystem;

namespace deca {

MetricsLog::MetricsLog(fs::path file, const fs::path& tensorboard)
    : file_(std::move(file)), out_(file_, std::ios::app) {
  if (!out_) throw Error("cannot write " + file_.string());
  if (!tensorboard.empty()) tensorboard_ = std::make_unique<TensorBoardWriter>(tensorboard);
}

void MetricsLog::write(nlohmann::ordered_json line) {
  // Wall-clock time (Unix seconds, as TensorBoard's wall_time): curves against time.
  line["time"] = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  out_ << line.dump() << '\n';
  out_.flush();
  if (!out_) throw Error("cannot write " + file_.string() + " (disk full?)");
  if (tensorboard_) mirror(line);
}

void MetricsLog::mirror(const nlohmann::ordered_json& line) {
  const std::string type = line.value("type", "");
  const long step = line.value("step", 0L);
  const double time = line["time"].get<double>();
  auto scalar = [&](const std::string& tag, const char* key) {
    if (line.contains(key) && line[key].is_number()) tensorboard_->scalar(tag, step, line[key].get<double>(), time);
  };
  if (type == "start") {
    tensorboard_->restart(step + 1, time);
  } else if (type == "train") {
    scalar("loss/" + line.value("task", ""), "loss");
    if (step != last_train_step_) {  // one value a step, though each task's line repeats them
      scalar("learning_rate", "lr");
      scalar("tokens_per_s", "tokens_per_s");
      scalar("examples_per_s", "examples_per_s");
      last_train_step_ = step;
    }
  } else if (type == "validation") {
    const std::string task = line.value("task", "");
    if (task == "decascore") {
      scalar("decascore", "decascore");
    } else {
      static const std::set<std::string> kNotMetrics = {"step", "elapsed_seconds", "time"};
      for (const auto& [key, value] : line.items())
        if (value.is_number() && !kNotMetrics.count(key)) scalar(task + "/" + key, key.c_str());
    }
  }
  tensorboard_->flush();
}

long MetricsLog::truncate_after(const fs::path& file, long step) {
  if (!fs::exists(file)) return 0;
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
  if (dropped > 0) write_file_atomic(file, kept);
  return dropped;
}

Eta::Eta(long total_steps, long val_every) : total_(total_steps), val_every_(val_every) {}

void Eta::after_step(double seconds) {
  recent_.push_back(seconds);
  recent_sum_ += seconds;
  if (recent_.size() > kWindow) {
    recent_sum_ -= recent_.front();
    recent_.pop_front();
  }
}

void Eta::after_validation(double seconds) { validation_ = seconds; }

long Eta::validations_after(long step) const {
  if (val_every_ <= 0 || step >= total_) return 0;
  return total_ / val_every_ - step / val_every_ + (total_ % val_every_ != 0 ? 1 : 0);
}

double Eta::seconds_left(long step) const {
  if (recent_.empty()) return 0;
  const double per_step = recent_sum_ / static_cast<double>(recent_.size());
  return per_step * static_cast<double>(std::max(0L, total_ - step)) +
         validation_ * static_cast<double>(validations_after(step));
}

std::string Eta::hms(double seconds) {
  const long s = static_cast<long>(seconds);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

TrainLog::TrainLog(MetricsLog& metrics, long log_every, long total_steps)
    : metrics_(metrics), every_(log_every), total_(total_steps) {}

bool TrainLog::due(long step) const { return step % every_ == 0 || step == total_; }

void TrainLog::after_step(const StepOutcome& s, const Eta& eta) {
  seconds_ += s.seconds;
  sync_seconds_ += s.sync_seconds;
  ++steps_;
  tokens_ += static_cast<double>(s.tokens);
  examples_ += static_cast<double>(s.examples);
  if (s.applied) {
    auto& [sum, count] = loss_[s.task];
    sum += s.loss;
    ++count;
  }
  if (!due(s.step)) return;
  const double tps = seconds_ > 0 ? tokens_ / seconds_ : 0;
  const double eps = seconds_ > 0 ? examples_ / seconds_ : 0;
  double sum_all = 0;
  long count_all = 0;
  std::string per_task;
  for (const auto& [task, sc] : loss_) {
    const double mean = sc.first / static_cast<double>(sc.second);
    nlohmann::ordered_json line{{"type", "train"},
                                {"step", s.step},
                                {"phase", s.phase},
                                {"task", task},
                                {"loss", mean},
                                {"lr", s.lr},
                                {"tokens_per_s", tps},
                                {"examples_per_s", eps},
                                {"steps_per_s", seconds_ > 0 ? static_cast<double>(steps_) / seconds_ : 0.0},
                                {"elapsed_seconds", s.elapsed}};
    if (sync_seconds_ > 0) line["allreduce_ms"] = 1000 * sync_seconds_ / static_cast<double>(steps_);
    metrics_.write(line);
    sum_all += sc.first;
    count_all += sc.second;
    per_task += format("{}{} {:.3f}", per_task.empty() ? "" : ", ", task, mean);
  }
  log::info("step {}/{} | phase {} | loss {:.4f} ({}) | lr {:.3g} | {:.0f} tok/s | ETA {}", s.step, total_, s.phase,
            count_all ? sum_all / static_cast<double>(count_all) : 0.0, per_task, s.lr, tps,
            Eta::hms(eta.seconds_left(s.step)));
  loss_.clear();
  tokens_ = examples_ = seconds_ = sync_seconds_ = 0;
  steps_ = 0;
}

ProgressLine::ProgressLine(long total_steps) : total_(total_steps), tty_(::isatty(STDERR_FILENO) != 0) {}

void ProgressLine::after_step(const StepOutcome& s, const Eta& eta) {
  if (!tty_) return;
  std::fprintf(stderr, "\r[%ld/%ld] %-16s loss %.4f  ETA %s  ", s.step, total_, s.task.c_str(), s.loss,
               Eta::hms(eta.seconds_left(s.step)).c_str());
  std::fflush(stderr);
}

void ProgressLine::clear() {
  if (tty_) std::fprintf(stderr, "\r%*s\r", 80, "");
}

bool BadSteps::after_step(const StepOutcome& s, long max_in_a_row) {
  if (s.applied) {
    consecutive = 0;
    last_applied = s.step;
    return false;
  }
  ++total;
  if (consecutive++ == 0) streak_start = s.step;
  log::warn("step {}: non-finite loss or gradient on {}; step skipped ({} in a row)", s.step, s.task, consecutive);
  return consecutive >= max_in_a_row;
}

void BestCheckpoint::check(const std::vector<std::pair<std::string, std::vector<std::string>>>& validated,
                           bool validating) const {
  if (metric == "decascore") return;
  const size_t dot = metric.rfind('.');
  std::string known = "decascore";
  for (const auto& [task, names] : validated) {
    for (const auto& m : names) {
      if (dot != std::string::npos && metric.substr(0, dot) == task && metric.substr(dot + 1) == m) return;
      known += ", " + task + "." + m;
    }
  }
  throw ConfigError("config key \"training.best_metric\": \"" + metric + "\" is not a validated metric" +
                    (validating ? " (one of: " + known + ")" : " (validation is off: training.val_every is 0)"));
}

double BestCheckpoint::value_in(const EvalReport& report) const {
  if (metric == "decascore") return report.decascore;
  const size_t dot = metric.rfind('.');
  if (dot != std::string::npos) {
    for (const auto& r : report.tasks)
      if (r.task == metric.substr(0, dot))
        if (auto x = r.values.get(metric.substr(dot + 1))) return *x;
  }
  throw ConfigError("training.best_metric \"" + metric + "\" names no validated task metric");
}

bool BestCheckpoint::update(const EvalReport& report, long at_step) {
  const double v = value_in(report);
  if (!(v > value)) return false;
  value = v;
  step = at_step;
  return true;
}

}  // namespace deca
