#include "deca/core/threads.h"

#include <sched.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <thread>

namespace fs = std::filesystem;

namespace deca {
namespace {

std::optional<double> read_quota(const fs::path& max_file, const fs::path& v1_quota, const fs::path& v1_period) {
  std::ifstream v2(max_file);
  std::string quota;
  double period = 0;
  if (v2 >> quota >> period) {
    if (quota == "max" || period <= 0) return std::nullopt;
    return std::atof(quota.c_str()) / period;
  }
  std::ifstream q(v1_quota), p(v1_period);
  double us = 0;
  if (q >> us && p >> period && us > 0 && period > 0) return us / period;
  return std::nullopt;
}

}  // namespace

ThreadCount choose_threads(const char* omp_num_threads, int affinity_cpus, std::optional<double> quota_cpus,
                           int processes) {
  processes = std::max(1, processes);
  if (omp_num_threads && *omp_num_threads) {
    char* end = nullptr;
    const long n = std::strtol(omp_num_threads, &end, 10);
    if (end && *end == '\0' && n > 0) return {static_cast<int>(n), "OMP_NUM_THREADS=" + std::string(omp_num_threads)};
  }
  int cpus = std::max(1, affinity_cpus);
  std::string why = std::to_string(cpus) + " CPUs in the affinity mask";
  if (quota_cpus && std::ceil(*quota_cpus) < cpus) {
    cpus = std::max(1, static_cast<int>(std::ceil(*quota_cpus)));
    char q[32];
    std::snprintf(q, sizeof q, "%g", *quota_cpus);
    why = "a CPU quota of " + std::string(q) + " CPUs";
  }
  if (processes > 1) why += " shared by " + std::to_string(processes) + " processes";
  return {std::max(1, cpus / processes), why};
}

std::optional<double> cgroup_cpu_quota(const fs::path& root) {
  // The process's own cgroup first (its path in /proc/self/cgroup), then the root.
  std::ifstream self("/proc/self/cgroup");
  std::string line;
  while (std::getline(self, line)) {
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (path.empty() || path == "/") continue;
    const fs::path rel = fs::path(path).relative_path();
    if (controllers.empty()) {
      if (auto q = read_quota(root / rel / "cpu.max", "", "")) return q;
    } else if (controllers.find("cpu") != std::string::npos) {
      for (const char* dir : {"cpu", "cpu,cpuacct"})
        if (auto q = read_quota("", root / dir / rel / "cpu.cfs_quota_us", root / dir / rel / "cpu.cfs_period_us"))
          return q;
    }
  }
  if (auto q = read_quota(root / "cpu.max", "", "")) return q;
  for (const char* dir : {"cpu", "cpu,cpuacct"})
    if (auto q = read_quota("", root / dir / "cpu.cfs_quota_us", root / dir / "cpu.cfs_period_us")) return q;
  return std::nullopt;
}

ThreadCount default_threads(int processes) {
  int affinity = 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) affinity = CPU_COUNT(&set);
  if (affinity <= 0) affinity = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return choose_threads(std::getenv("OMP_NUM_THREADS"), affinity, cgroup_cpu_quota(), processes);
}

}  // namespace deca
