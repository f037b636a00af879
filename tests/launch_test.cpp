// The launch environment: torchrun's and SLURM's variables, SLURM host lists,
// and clear errors for values a launcher would never set.
#include <map>

#include "deca/core/error.h"
#include "deca/core/launch.h"
#include "test_support.h"

namespace {

deca::Launch launch(const std::map<std::string, std::string>& vars) {
  return deca::launch_from_environment([&](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

TEST(Launch, NoVariablesIsOneProcess) {
  const auto l = launch({});
  EXPECT_FALSE(l.distributed());
  EXPECT_EQ(l.rank, 0);
  EXPECT_EQ(l.world_size, 1);
  EXPECT_EQ(l.launcher, "");
}

TEST(Launch, TorchrunVariables) {
  const auto l = launch({{"RANK", "5"},
                         {"WORLD_SIZE", "16"},
                         {"LOCAL_RANK", "1"},
                         {"LOCAL_WORLD_SIZE", "4"},
                         {"MASTER_ADDR", "node07"},
                         {"MASTER_PORT", "29400"}});
  EXPECT_TRUE(l.distributed());
  EXPECT_EQ(l.launcher, "torchrun");
  EXPECT_EQ(l.rank, 5);
  EXPECT_EQ(l.world_size, 16);
  EXPECT_EQ(l.local_rank, 1);
  EXPECT_EQ(l.local_world_size, 4);
  EXPECT_EQ(l.master_addr, "node07");
  EXPECT_EQ(l.master_port, 29400);
  EXPECT_FALSE(l.agent_store);
  // What torchrun itself sets beside: its agent serves the store.
  const auto agent = launch({{"RANK", "1"},
                             {"WORLD_SIZE", "2"},
                             {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                             {"TORCHELASTIC_RESTART_COUNT", "3"}});
  EXPECT_TRUE(agent.agent_store);
  EXPECT_EQ(agent.restart, 3);
  // torchrun with one process is still one process.
  EXPECT_FALSE(launch({{"RANK", "0"}, {"WORLD_SIZE", "1"}}).distributed());
}

TEST(Launch, SlurmVariables) {
  auto l = launch({{"SLURM_PROCID", "9"},
                   {"SLURM_NTASKS", "16"},
                   {"SLURM_LOCALID", "1"},
                   {"SLURM_TASKS_PER_NODE", "8(x2)"},
                   {"SLURM_JOB_NODELIST", "gpu[003-004]"}});
  EXPECT_EQ(l.launcher, "slurm");
  EXPECT_EQ(l.rank, 9);
  EXPECT_EQ(l.world_size, 16);
  EXPECT_EQ(l.local_rank, 1);
  EXPECT_EQ(l.local_world_size, 8);
  EXPECT_EQ(l.master_addr, "gpu003");
  EXPECT_EQ(l.master_port, 29500);
  // MASTER_ADDR and MASTER_PORT win; torchrun's variables win over SLURM's.
  l = launch({{"SLURM_PROCID", "1"},
              {"SLURM_NTASKS", "2"},
              {"SLURM_JOB_NODELIST", "a1"},
              {"MASTER_ADDR", "10.0.0.1"},
              {"MASTER_PORT", "1234"}});
  EXPECT_EQ(l.master_addr, "10.0.0.1");
  EXPECT_EQ(l.master_port, 1234);
  l = launch({{"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "2"}, {"RANK", "0"}, {"WORLD_SIZE", "4"}});
  EXPECT_EQ(l.launcher, "torchrun");
  EXPECT_EQ(l.world_size, 4);
}

TEST(Launch, SlurmHostLists) {
  EXPECT_EQ(deca::first_slurm_host("node07"), "node07");
  EXPECT_EQ(deca::first_slurm_host("node[07-09,12],gpu5"), "node07");
  EXPECT_EQ(deca::first_slurm_host("gpu5,node[07-09]"), "gpu5");
  EXPECT_EQ(deca::first_slurm_host("rack[1-2]-n[01-04]"), "rack1-n01");
  EXPECT_EQ(deca::first_slurm_host("n[3,1]"), "n3");
  for (const char* bad : {"", "node[", "node[a-b]", "node[]", "[", "node]x"})
    EXPECT_THROW(deca::first_slurm_host(bad), deca::ConfigError) << bad;
}

TEST(Launch, ImpossibleValuesNameTheVariable) {
  const std::vector<std::map<std::string, std::string>> bad = {
      {{"RANK", "2"}, {"WORLD_SIZE", "2"}},  // rank out of range
      {{"RANK", "-1"}, {"WORLD_SIZE", "2"}},
      {{"RANK", "0"}, {"WORLD_SIZE", "two"}},
      {{"RANK", "0"}},  // WORLD_SIZE missing
      {{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "3"}, {"LOCAL_WORLD_SIZE", "2"}},
      {{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}},
      {{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "0"}},
      {{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_TASKS_PER_NODE", "(x2)"}},
  };
  const std::vector<std::string> names = {"RANK",       "RANK",        "WORLD_SIZE",   "WORLD_SIZE",
                                          "LOCAL_RANK", "MASTER_PORT", "SLURM_NTASKS", "SLURM_TASKS_PER_NODE"};
  for (size_t i = 0; i < bad.size(); ++i) {
    try {
      launch(bad[i]);
      ADD_FAILURE() << "case " << i << ": expected an error";
    } catch (const deca::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(names[i]), std::string::npos) << "case " << i << ": " << e.what();
    }
  }
}

}  // namespace
