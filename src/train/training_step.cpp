#include "deca/train/training_step.h"

#include <cmath>
#include <limits>

#include "deca/core/stop.h"
#include "deca/model/precision.h"

namespace deca {

TrainingStep::TrainingStep(model::Seq2Seq& net, Adam& optimizer, const torch::Device& device, bool bf16,
                           GradientExchange* exchange)
    : net_(net), optimizer_(optimizer), device_(device), bf16_(bf16), exchange_(exchange) {}

// Backward runs outside autocast, as LibTorch's autocast expects.
torch::Tensor TrainingStep::loss_of(const model::Batch& batch) {
  model::Autocast autocast(device_, bf16_);
  return net_.loss(batch).to(torch::kFloat);
}

TrainingStep::Outcome TrainingStep::run(const std::vector<model::Batch>& parts, long batch_targets, long step,
                                        double lr, const std::function<void(Phase)>& after) {
  auto phase_done = [&](Phase phase) {
    if (after) after(phase);
  };
  net_.train();
  optimizer_.zero_grad();
  Outcome o;
  // Each part's loss weighted by its share of the batch's target tokens: the
  // summed gradients are those of the whole batch's loss. (One part in one
  // process is the whole batch, its loss taken as it is.)
  auto weighted_loss = [&](const model::Batch& part) {
    auto loss = loss_of(part);
    phase_done(Phase::forward);
    if (parts.size() == 1 && !exchange_) return loss;
    return loss * (static_cast<double>(part.target_tokens) / static_cast<double>(batch_targets));
  };
  if (!exchange_) {
    // A non-finite loss gives non-finite gradients: the optimizer skips the step.
    for (const auto& part : parts) {
      const auto loss = weighted_loss(part);
      loss.backward();
      phase_done(Phase::backward);
      o.loss = o.loss.defined() ? o.loss + loss.detach() : loss.detach();
      o.input_tokens += part.input_tokens;
    }
  } else {
    StepTotals mine;
    for (const auto& part : parts) {
      const auto loss = weighted_loss(part);
      const double value = loss.item<double>();
      mine.input_tokens += static_cast<double>(part.input_tokens);
      if (!std::isfinite(value)) {
        mine.bad = true;  // the other parts' gradients go unused: the step is skipped
        continue;
      }
      mine.loss += value;
      loss.backward();
    }
    if (mine.bad) mine.loss = 0;
    mine.stop = stop::requested();
    const StepTotals all = exchange_->sum(mine, step, &o.sync_seconds);
    phase_done(Phase::backward);
    o.loss = torch::scalar_tensor(all.bad ? std::numeric_limits<double>::quiet_NaN() : all.loss,
                                  torch::TensorOptions().dtype(torch::kFloat).device(device_));
    o.input_tokens = static_cast<long>(std::llround(all.input_tokens));
    o.stop = all.stop;
  }
  o.applied = optimizer_.step(o.loss, lr);
  phase_done(Phase::optimizer);
  return o;
}

}  // namespace deca
