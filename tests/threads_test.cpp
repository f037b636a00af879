// The default thread count: OMP_NUM_THREADS, else the CPUs this process may
// use (affinity mask, container quota), shared by a machine's processes.
#include <gtest/gtest.h>

#include "deca/core/io.h"
#include "deca/core/threads.h"
#include "test_support.h"

namespace fs = std::filesystem;

TEST(Threads, OmpNumThreadsWinsWhenItIsAPositiveNumber) {
  const auto t = deca::choose_threads("3", 64, 2.0, 1);
  EXPECT_EQ(t.count, 3);
  EXPECT_EQ(t.why, "OMP_NUM_THREADS=3");
  for (const char* ignored : {"", "0", "-2", "four", "3x"})
    EXPECT_EQ(deca::choose_threads(ignored, 8, std::nullopt, 1).count, 8) << ignored;
}

TEST(Threads, TheAffinityMaskCappedByAQuotaSharedByTheProcesses) {
  auto t = deca::choose_threads(nullptr, 64, std::nullopt, 1);
  EXPECT_EQ(t.count, 64);
  EXPECT_EQ(t.why, "64 CPUs in the affinity mask");
  t = deca::choose_threads(nullptr, 64, 2.5, 1);  // a 2.5-CPU container on a 64-core host
  EXPECT_EQ(t.count, 3);
  EXPECT_EQ(t.why, "a CPU quota of 2.5 CPUs");
  EXPECT_EQ(deca::choose_threads(nullptr, 2, 4.0, 1).count, 2);  // the mask is the smaller
  t = deca::choose_threads(nullptr, 8, std::nullopt, 2);
  EXPECT_EQ(t.count, 4);
  EXPECT_EQ(t.why, "8 CPUs in the affinity mask shared by 2 processes");
  EXPECT_EQ(deca::choose_threads(nullptr, 2, std::nullopt, 4).count, 1);
}

TEST(Threads, CgroupQuotasOfBothVersionsAreRead) {
  deca::testing::TempDir tmp("deca-cgroup");
  const fs::path v2 = tmp.path() / "v2", v1 = tmp.path() / "v1";
  deca::write_file_atomic(v2 / "cpu.max", "250000 100000\n");
  EXPECT_DOUBLE_EQ(deca::cgroup_cpu_quota(v2).value_or(-1), 2.5);
  deca::write_file_atomic(v2 / "cpu.max", "max 100000\n");
  EXPECT_FALSE(deca::cgroup_cpu_quota(v2).has_value());
  deca::write_file_atomic(v1 / "cpu" / "cpu.cfs_quota_us", "150000\n");
  deca::write_file_atomic(v1 / "cpu" / "cpu.cfs_period_us", "100000\n");
  EXPECT_DOUBLE_EQ(deca::cgroup_cpu_quota(v1).value_or(-1), 1.5);
  deca::write_file_atomic(v1 / "cpu" / "cpu.cfs_quota_us", "-1\n");
  EXPECT_FALSE(deca::cgroup_cpu_quota(v1).has_value());
  EXPECT_FALSE(deca::cgroup_cpu_quota(tmp.path() / "none").has_value());
}
