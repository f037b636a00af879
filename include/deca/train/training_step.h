// One update as deca-train makes it and deca-bench times it: the batch's loss
// in the run's precision, its backward pass, with several processes the
// gradient exchange (data_parallel.h), and Adam's step. In one process nothing
// waits for the device: the loss and whether Adam applied the update come back
// as device tensors.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <vector>

#include "deca/model/model.h"
#include "deca/train/adam.h"
#include "deca/train/data_parallel.h"

namespace deca {

class TrainingStep {
 public:
  enum class Phase { forward, backward, optimizer };
  // bf16: the forward pass under bf16 autocast (training.precision "bf16");
  // exchange: several processes (null: one).
  TrainingStep(model::Seq2Seq& net, Adam& optimizer, const torch::Device& device, bool bf16,
               GradientExchange* exchange = nullptr);

  struct Outcome {
    torch::Tensor loss;       // the whole batch's loss, 0-dim float on the device (not finite: Adam skipped)
    torch::Tensor applied;    // whether Adam applied the update, 0-dim
    long input_tokens = 0;    // the whole batch's
    bool stop = false;        // several processes: some rank was asked to stop
    double sync_seconds = 0;  // several processes: the gradient all-reduce's time
  };
  // `parts`: this process's share of the step's batch, in the micro-batches
  // it accumulates gradients over one after the other (training.accumulate;
  // empty: no rows for this process; one process, one part: the batch);
  // `batch_targets`: the whole batch's target tokens (each part's loss is
  // weighted by its share); `step` names the all-reduce in errors; `after` is
  // called at the end of each phase (deca-bench drains the device and reads
  // its clock there).
  Outcome run(const std::vector<model::Batch>& parts, long batch_targets, long step, double lr,
              const std::function<void(Phase)>& after = {});

 private:
  torch::Tensor loss_of(const model::Batch& batch);
  model::Seq2Seq& net_;
  Adam& optimizer_;
  torch::Device device_;
  bool bf16_;
  GradientExchange* exchange_;
};

}  // namespace deca
