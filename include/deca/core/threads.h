// How many threads a process uses by default: the CPUs it may actually run
// on, not the machine's. OMP_NUM_THREADS wins when set (as in LibTorch and
// every OpenMP program); otherwise the CPUs of the process's affinity mask
// (taskset, cgroup cpusets), capped by a container's CPU quota (cgroup v2
// cpu.max, v1 cpu.cfs_quota_us), shared by the processes of one machine.
// Torch-free; deca::model::use_threads applies it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace deca {

struct ThreadCount {
  int count = 1;
  std::string why;  // for the log: "OMP_NUM_THREADS=4", "2 CPUs in the affinity mask", ...
};

// The choice from its inputs: OMP_NUM_THREADS's value (nullptr when unset),
// the CPUs of the affinity mask, a CPU quota (CPUs' worth, may be fractional),
// and the processes sharing them.
ThreadCount choose_threads(const char* omp_num_threads, int affinity_cpus, std::optional<double> quota_cpus,
                           int processes);

// A cgroup's CPU quota in CPUs (cpu.max "200000 100000" -> 2), or none
// ("max", or no such file), read under `root` (/sys/fs/cgroup).
std::optional<double> cgroup_cpu_quota(const std::filesystem::path& root = "/sys/fs/cgroup");

// choose_threads for this process.
ThreadCount default_threads(int processes = 1);

}  // namespace deca
