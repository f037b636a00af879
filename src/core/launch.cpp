#include "deca/core/launch.h"

#include <algorithm>
#include <cstdlib>

#include "deca/core/error.h"

namespace deca {
namespace {

// The leading decimal number of `text` ("8(x2)" -> 8), or -1.
long leading_number(std::string_view text) {
  long n = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9' && i < 9; ++i) n = n * 10 + (text[i] - '0');
  return i == 0 ? -1 : n;
}

class Environment {
 public:
  explicit Environment(const std::function<const char*(const char*)>& lookup) : lookup_(lookup) {}
  const char* raw(const char* name) const {
    const char* v = lookup_ ? lookup_(name) : std::getenv(name);
    return v && *v ? v : nullptr;
  }
  bool has(const char* name) const { return raw(name) != nullptr; }
  // The whole value as an integer in [minimum, maximum].
  int number(const char* name, long minimum, long maximum) const {
    const std::string v = raw(name);
    const bool digits = v.size() <= 9 && v.find_first_not_of("0123456789") == std::string::npos;
    const long n = digits ? std::strtol(v.c_str(), nullptr, 10) : -1;
    if (!digits || n < minimum || n > maximum)
      throw ConfigError("environment variable " + std::string(name) + "=\"" + v + "\": expected an integer from " +
                        std::to_string(minimum) + " to " + std::to_string(maximum));
    return static_cast<int>(n);
  }

 private:
  const std::function<const char*(const char*)>& lookup_;
};

}  // namespace

std::string first_slurm_host(std::string_view list) {
  std::string host;
  size_t i = 0;
  while (i < list.size() && list[i] != ',') {
    if (list[i] != '[') {
      host += list[i++];
      continue;
    }
    const size_t close = list.find(']', i);
    if (close == std::string_view::npos) break;
    // The first number of the group: up to the first '-' or ','.
    const std::string_view group = list.substr(i + 1, close - i - 1);
    const std::string_view first = group.substr(0, group.find_first_of("-,"));
    if (first.empty() || first.find_first_not_of("0123456789") != std::string_view::npos) break;
    host += first;
    i = close + 1;
  }
  if (host.empty() || host.find_first_of("[]") != std::string::npos || (i < list.size() && list[i] != ','))
    throw ConfigError("SLURM_JOB_NODELIST \"" + std::string(list) +
                      "\" is not a SLURM host list (e.g. node[01-04],gpu5)");
  return host;
}

Launch launch_from_environment(const std::function<const char*(const char*)>& lookup) {
  const Environment env(lookup);
  Launch l;
  constexpr long kMax = 1 << 20;
  if (env.has("WORLD_SIZE") || env.has("RANK")) {
    for (const char* name : {"RANK", "WORLD_SIZE"})
      if (!env.has(name))
        throw ConfigError(std::string("environment variable ") + name + " is not set, but " +
                          (name[0] == 'R' ? "WORLD_SIZE" : "RANK") + " is (torchrun sets both)");
    l.launcher = "torchrun";
    l.world_size = env.number("WORLD_SIZE", 1, kMax);
    l.rank = env.number("RANK", 0, l.world_size - 1);
    l.local_world_size = env.has("LOCAL_WORLD_SIZE") ? env.number("LOCAL_WORLD_SIZE", 1, l.world_size) : l.world_size;
    l.local_rank =
        env.has("LOCAL_RANK") ? env.number("LOCAL_RANK", 0, l.local_world_size - 1) : l.rank % l.local_world_size;
    l.agent_store =
        env.has("TORCHELASTIC_USE_AGENT_STORE") && std::string(env.raw("TORCHELASTIC_USE_AGENT_STORE")) == "True";
    if (env.has("TORCHELASTIC_RESTART_COUNT")) l.restart = env.number("TORCHELASTIC_RESTART_COUNT", 0, kMax);
  } else if (env.has("SLURM_PROCID") && env.has("SLURM_NTASKS")) {
    l.launcher = "slurm";
    l.world_size = env.number("SLURM_NTASKS", 1, kMax);
    l.rank = env.number("SLURM_PROCID", 0, l.world_size - 1);
    if (env.has("SLURM_NTASKS_PER_NODE")) {
      l.local_world_size = env.number("SLURM_NTASKS_PER_NODE", 1, l.world_size);
    } else if (env.has("SLURM_TASKS_PER_NODE")) {  // "8(x2)" or "8,4"
      const long n = leading_number(env.raw("SLURM_TASKS_PER_NODE"));
      if (n < 1)
        throw ConfigError(std::string("environment variable SLURM_TASKS_PER_NODE=\"") +
                          env.raw("SLURM_TASKS_PER_NODE") + "\": expected a task count such as 8 or 8(x2)");
      l.local_world_size = static_cast<int>(std::min<long>(n, l.world_size));
    } else {
      l.local_world_size = 1;
    }
    l.local_rank = env.has("SLURM_LOCALID") ? env.number("SLURM_LOCALID", 0, l.local_world_size - 1) : 0;
    const char* nodes = env.has("SLURM_JOB_NODELIST") ? env.raw("SLURM_JOB_NODELIST") : env.raw("SLURM_NODELIST");
    if (nodes) l.master_addr = first_slurm_host(nodes);
  }
  if (env.has("MASTER_ADDR")) l.master_addr = env.raw("MASTER_ADDR");
  if (env.has("MASTER_PORT")) l.master_port = env.number("MASTER_PORT", 1, 65535);
  return l;
}

}  // namespace deca
