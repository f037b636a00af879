#include "deca/train/data_parallel.h"

#include <chrono>
#include <cstring>

#include "deca/core/error.h"

namespace deca {

GradientExchange::GradientExchange(Communicator& comm, std::vector<torch::Tensor> trained, const torch::Device& device)
    : comm_(comm), trained_(std::move(trained)), device_(device) {}

StepTotals GradientExchange::sum(const StepTotals& mine, long step, double* seconds) {
  constexpr int64_t kTotals = 4;
  const int64_t flags = static_cast<int64_t>(trained_.size());
  if (!buffer_.defined()) {
    int64_t n = flags + kTotals;
    for (const auto& p : trained_) n += p.numel();
    buffer_ = torch::zeros({n}, torch::TensorOptions().device(device_));
  }
  int64_t at = 0;
  for (auto& p : trained_) {
    auto slot = buffer_.narrow(0, at, p.numel());
    if (p.grad().defined())
      slot.copy_((p.grad().is_sparse() ? p.grad().to_dense() : p.grad()).reshape(-1));
    else
      slot.zero_();
    at += p.numel();
  }
  std::vector<float> tail;
  for (const auto& p : trained_) tail.push_back(p.grad().defined() ? 1.0f : 0.0f);
  for (double x : {mine.loss, mine.bad ? 1.0 : 0.0, mine.input_tokens, mine.stop ? 1.0 : 0.0})
    tail.push_back(static_cast<float>(x));
  buffer_.narrow(0, at, flags + kTotals).copy_(torch::from_blob(tail.data(), {flags + kTotals}));
  const auto t0 = std::chrono::steady_clock::now();
  comm_.sum(buffer_, "the gradient all-reduce of step " + std::to_string(step));
  if (seconds) *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto sums = buffer_.narrow(0, at, flags + kTotals).to(torch::kCPU, torch::kDouble);
  const double* used = sums.data_ptr<double>();
  const double* v = used + flags;
  at = 0;
  for (size_t k = 0; k < trained_.size(); ++k) {
    auto& p = trained_[k];
    auto slot = buffer_.narrow(0, at, p.numel()).view_as(p);
    if (used[k] == 0)
      p.mutable_grad() = torch::Tensor();
    else if (p.grad().defined() && !p.grad().is_sparse())
      p.mutable_grad().copy_(slot);
    else
      p.mutable_grad() = slot.clone();
    at += p.numel();
  }
  return {v[0], v[1] > 0, v[2], v[3] > 0};
}

void broadcast_weights(Communicator& comm, const std::vector<torch::Tensor>& parameters) {
  torch::NoGradGuard no_grad;
  for (auto p : parameters) comm.broadcast(p, "the broadcast of the initial weights");
}

void gather_answers(Communicator& comm, SplitPredictions& p, bool interrupted, const std::string& what) {
  const auto all = comm.gather(pack_answers(p), what);
  if (interrupted) return;
  for (size_t r = 1; r < all.size(); ++r) unpack_answers(all[r], p.answers);
}

std::string pack_answers(const SplitPredictions& p) {
  std::string out;
  auto put = [&](uint32_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); };
  for (uint32_t row : p.rows) {
    put(row);
    put(static_cast<uint32_t>(p.answers[row].size()));
    out += p.answers[row];
  }
  return out;
}

void unpack_answers(const std::string& bytes, std::vector<std::string>& answers) {
  size_t at = 0;
  auto get = [&] {
    uint32_t v;
    if (at + sizeof v > bytes.size()) throw Error("validation: a rank's answers arrived cut short");
    std::memcpy(&v, bytes.data() + at, sizeof v);
    at += sizeof v;
    return v;
  };
  while (at < bytes.size()) {
    const uint32_t row = get(), length = get();
    if (row >= answers.size() || at + length > bytes.size())
      throw Error("validation: a rank's answers arrived damaged");
    answers[row].assign(bytes, at, length);
    at += length;
  }
}

}  // namespace deca
