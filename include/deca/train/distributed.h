// The processes of one data-parallel training run, talking through LibTorch's
// c10d: a TCPStore on rank 0 for the rendezvous and small messages, and a
// process group (Gloo between CPU processes, NCCL between GPUs) for the
// tensors. A run of one process opens nothing and every call is trivial.
//
// Every rank calls the collectives in the same order. When one fails (a rank
// died, or did not arrive within the timeout), the error names the lost rank:
// each rank's heartbeat thread counts up a key in the store every second, and
// the ranks whose count stopped are the lost ones.
#pragma once

#include <torch/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "deca/core/launch.h"

namespace deca {

// Whether this LibTorch build has the backend ("gloo", "nccl").
bool backend_available(const std::string& backend);

class Communicator {
 public:
  // Joins the run: rank 0 opens the store at launch.master_addr:master_port,
  // the others connect to it (a port that accepts and never answers is given
  // up after the timeout); each rank claims its number (a second claim is an
  // error) and waits for every rank up to the timeout, the message naming the
  // ranks that never came or a rank given another world size.
  // `device`: where this process trains (CUDA: backend auto is NCCL, and its
  // tensors live there). Throws ConfigError for an unknown or unavailable
  // backend, Error when the rendezvous fails.
  Communicator(const Launch& launch, const DistOptions& options, const torch::Device& device);
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  const Launch& launch() const;
  int rank() const { return launch().rank; }
  int world_size() const { return launch().world_size; }
  bool main() const { return rank() == 0; }
  std::string backend() const;  // "gloo", "nccl", or "none" for one process

  // In place, over all ranks: the sum of `t`; rank 0's `t` (same shape everywhere).
  // `what` names the operation in errors ("the gradient all-reduce at step 7").
  void sum(torch::Tensor& t, const std::string& what);
  void broadcast(torch::Tensor& t, const std::string& what);
  // True when `flag` is true on any rank.
  bool any(bool flag, const std::string& what);

  // Rank 0 gets every rank's bytes in rank order; the others get an empty list.
  std::vector<std::string> gather(const std::string& bytes, const std::string& what);
  // Rank 0 runs `work` (however long it takes: the others wait while its
  // heartbeat goes on) and every rank returns its result. When `work` throws on
  // rank 0, it rethrows there and the others throw Error("rank 0 failed ...").
  std::string from_main(const std::function<std::string()>& work, const std::string& what);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace deca
