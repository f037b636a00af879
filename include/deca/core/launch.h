// Where this process stands in a multi-process run, as the launchers of this
// field say it: torchrun (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT) or SLURM's srun (SLURM_PROCID, SLURM_NTASKS,
// SLURM_LOCALID, SLURM_NTASKS_PER_NODE or SLURM_TASKS_PER_NODE, and the first
// host of SLURM_JOB_NODELIST as the rendezvous host). Without them: one process.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace deca {

struct Launch {
  int rank = 0, world_size = 1;
  int local_rank = 0, local_world_size = 1;  // on this machine
  std::string master_addr = "127.0.0.1";     // where rank 0 listens for the rendezvous
  int master_port = 29500;
  std::string launcher;  // "torchrun", "slurm", or empty for a single process
  // torchrun's agent already serves the rendezvous store at master_addr:port
  // (TORCHELASTIC_USE_AGENT_STORE): every rank connects to it as a client.
  bool agent_store = false;
  int restart = 0;  // torchrun's restart count (TORCHELASTIC_RESTART_COUNT): a fresh key space each time
  bool distributed() const { return world_size > 1; }
};

// How the processes of a run talk (deca/train/distributed.h).
struct DistOptions {
  std::string backend = "auto";  // auto (nccl on CUDA, gloo on the CPU), gloo, nccl
  double timeout_seconds = 600;  // how long a rank waits for the others before giving up
};

// Reads the launch from environment variables (`lookup` returns nullptr for an
// unset one; std::getenv by default). torchrun's variables win over SLURM's;
// MASTER_ADDR and MASTER_PORT, when set, win over what SLURM implies. A value
// that is not a number or out of range throws ConfigError naming the variable.
Launch launch_from_environment(const std::function<const char*(const char*)>& lookup = {});

// The first host of a SLURM hostlist: "node[07-09,12],gpu5" -> "node07",
// "rack[1-2]-n[01-04]" -> "rack1-n01". Throws ConfigError when it is malformed.
std::string first_slurm_host(std::string_view nodelist);

}  // namespace deca
