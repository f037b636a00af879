#include "deca/data/mixing.h"

#include <algorithm>
#include <cmath>

#include "deca/core/error.h"
#include "deca/data/batching.h"

namespace deca {

TaskMixer::TaskMixer(const std::vector<PhaseOptions>& phases, const std::vector<std::string>& tasks,
                     const std::vector<long>& task_sizes, uint64_t seed)
    : seed_(seed) {
  long first = 1;
  for (size_t pi = 0; pi < phases.size(); ++pi) {
    const auto& opt = phases[pi];
    Phase ph;
    ph.first_step = first;
    ph.last_step = opt.steps > 0 ? first + opt.steps - 1 : 0;
    first += opt.steps;
    auto index_of = [&](const std::string& name) {
      auto it = std::find(tasks.begin(), tasks.end(), name);
      if (it == tasks.end()) throw ConfigError("curriculum." + std::to_string(pi) + ": task " + name + " is unknown");
      return static_cast<size_t>(it - tasks.begin());
    };
    std::vector<size_t> idx;
    for (const auto& name : opt.tasks) idx.push_back(index_of(name));
    for (const auto& name : opt.rehearse) ph.rehearse.push_back(index_of(name));
    ph.rehearsal = opt.rehearsal;
    ph.round_robin = opt.mixing == "round_robin";
    ph.tasks = idx;
    std::vector<double> w(idx.size());
    for (size_t k = 0; k < idx.size(); ++k) {
      const double n =
          static_cast<double>(opt.size_cap > 0 ? std::min(task_sizes[idx[k]], opt.size_cap) : task_sizes[idx[k]]);
      if (ph.round_robin)
        w[k] = static_cast<double>(opt.counts.empty() ? 1 : opt.counts[k]);
      else if (opt.mixing == "proportional")
        w[k] = n;
      else if (opt.mixing == "temperature")
        w[k] = std::pow(n, 1.0 / opt.temperature);
      else
        w[k] = opt.weights[k];
    }
    double total = 0;
    for (double x : w) total += x;
    if (!(total > 0))
      throw ConfigError("curriculum." + std::to_string(pi) + ": the tasks' weights sum to 0 (empty training splits?)");
    for (double x : w) {
      ph.p.push_back(x / total);
      ph.cdf.push_back((ph.cdf.empty() ? 0.0 : ph.cdf.back()) + x / total);
    }
    if (ph.round_robin) {
      for (size_t k = 0; k < idx.size(); ++k)
        for (long c = 0; c < (opt.counts.empty() ? 1 : opt.counts[k]); ++c) ph.cycle.push_back(idx[k]);
    }
    phases_.push_back(std::move(ph));
  }
}

TaskMixer::Pick TaskMixer::at(long step) const {
  size_t pi = 0;
  while (pi + 1 < phases_.size() && phases_[pi].last_step != 0 && step > phases_[pi].last_step) ++pi;
  const Phase& ph = phases_[pi];
  long k = step - ph.first_step;
  if (!ph.rehearse.empty()) {
    // Step k is the r-th replay when floor((k + 1) share) passes r: replays
    // evenly spaced, exactly `share` of any long stretch.
    const auto replays = [&](long n) { return static_cast<long>(std::floor(static_cast<double>(n) * ph.rehearsal)); };
    const long before = replays(k), after = replays(k + 1);
    if (after > before) return {pi, ph.rehearse[static_cast<size_t>(before) % ph.rehearse.size()]};
    k -= before;  // the phase's own tasks continue their rule where they left off
  }
  if (ph.round_robin) return {pi, ph.cycle[static_cast<size_t>(k) % ph.cycle.size()]};
  const double u = uniform01(seed_ ^ splitmix64(static_cast<uint64_t>(step) * 0x2545F4914F6CDD1Dull));
  size_t j = static_cast<size_t>(std::upper_bound(ph.cdf.begin(), ph.cdf.end(), u) - ph.cdf.begin());
  if (j >= ph.tasks.size()) j = ph.tasks.size() - 1;
  return {pi, ph.tasks[j]};
}

}  // namespace deca
