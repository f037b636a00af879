#include "deca/train/adam.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>
#include <type_traits>

#include "deca/core/config.h"
#include "deca/core/counter_hash.h"
#include "deca/core/error.h"
#include "deca/kernels/adam_update.h"
#include "deca/kernels/parallel.h"
#include "deca/model/safetensors.h"

namespace fs = std::filesystem;

namespace deca {

AdamOptions adam_options(const TrainOptions& t) {
  AdamOptions o{t.beta1, t.beta2, t.eps, t.grad_clip};
  o.state_dtype = t.optimizer_state == "bf16" ? torch::kBFloat16 : torch::kFloat;
  return o;
}

namespace {

// Stochastic rounding's key for parameter `index` at its applied step `step`.
uint64_t rounding_key(size_t index, uint64_t step) { return splitmix64(splitmix64(index + 1) ^ step); }

// The same in tensor operations (int64 arithmetic wraps as uint64's; logical
// right shifts are masked arithmetic ones).
torch::Tensor shift_right(const torch::Tensor& x, int s) {
  return x.bitwise_right_shift(s).bitwise_and((int64_t{1} << (64 - s)) - 1);
}

torch::Tensor splitmix64(torch::Tensor z) {
  z = z.bitwise_xor(shift_right(z, 30)).mul(static_cast<int64_t>(0xbf58476d1ce4e5b9ULL));
  z = z.bitwise_xor(shift_right(z, 27)).mul(static_cast<int64_t>(0x94d049bb133111ebULL));
  return z.bitwise_xor(shift_right(z, 31));
}

// rounding_bits for every element of a tensor of n, from a 0-dim int64 key.
torch::Tensor rounding_bits(const torch::Tensor& key, int64_t n) {
  const auto k = torch::arange(n, key.options());
  const auto r = splitmix64(key + k.bitwise_right_shift(1).mul(static_cast<int64_t>(kCounterStride)));
  return torch::where(k.bitwise_and(1).to(torch::kBool), shift_right(r, 32), r.bitwise_and(int64_t{0xffffffff}));
}

// x (fp32) rounded into `out` (bfloat16) with 16 random bits per element (int64).
void round_stochastic_into(torch::Tensor& out, const torch::Tensor& x, const torch::Tensor& random16) {
  const auto bits = x.contiguous().view(torch::kInt32).to(torch::kInt64).bitwise_and(int64_t{0xffffffff}).add(random16);
  const auto kept = bits.bitwise_and(int64_t{0xffff0000}).to(torch::kInt32);  // wraps to the same 32 bits
  out.copy_(kept.view(torch::kFloat).view(out.sizes()));                      // exact: its low 16 bits are zero
}

}  // namespace

Adam::Adam(const std::vector<std::pair<std::string, torch::Tensor>>& named_parameters, AdamOptions options)
    : options_(options) {
  TORCH_CHECK(options_.state_dtype == torch::kFloat || options_.state_dtype == torch::kBFloat16,
              "deca::Adam: the moments are kept in fp32 or bf16, not ", options_.state_dtype);
  torch::NoGradGuard no_grad;
  for (const auto& [name, p] : named_parameters) {
    all_.push_back(p);
    if (!p.requires_grad()) continue;
    names_.push_back(name);
    params_.push_back(p);
    const auto zeros = [&] {
      return torch::zeros_like(p, p.options().dtype(options_.state_dtype), torch::MemoryFormat::Contiguous);
    };
    state_.push_back({zeros(), zeros()});
  }
  lr_scale_.assign(params_.size(), 1.0);
  const auto device = params_.empty() ? torch::Device(torch::kCPU) : params_.front().device();
  steps_ = torch::zeros({static_cast<int64_t>(params_.size())},
                        torch::TensorOptions().dtype(torch::kFloat64).device(device));
}

void Adam::scale_lr(const std::string& name, double scale) {
  const auto it = std::find(names_.begin(), names_.end(), name);
  if (it == names_.end()) throw Error("deca::Adam: no trained parameter " + name);
  lr_scale_[static_cast<size_t>(it - names_.begin())] = scale;
  lr_scale_on_device_ = torch::tensor(lr_scale_, torch::kFloat64).to(steps_.device());
}

void Adam::zero_grad() {
  for (auto& p : params_) p.mutable_grad() = torch::Tensor();
}

torch::Tensor Adam::step(const torch::Tensor& loss, double lr) {
  torch::NoGradGuard no_grad;
  std::vector<size_t> with_grad;
  for (size_t i = 0; i < params_.size(); ++i)
    if (params_[i].grad().defined()) with_grad.push_back(i);
  if (with_grad.empty()) return torch::isfinite(loss.detach()).reshape({});
  // Sparse gradients (an embedding's: the rows a batch looked up) with their
  // repeated rows summed, so that norms and updates read each row once.
  for (size_t i : with_grad)
    if (params_[i].grad().is_sparse()) params_[i].mutable_grad() = params_[i].grad().coalesce();
  if (steps_.is_cpu() && !options_.tensor_ops_on_cpu) return step_fused_on_cpu(loss, lr, with_grad);
  return step_with_tensor_ops(loss, lr, with_grad);
}

torch::Tensor Adam::gradient_norm(const std::vector<size_t>& with_grad) const {
  std::vector<torch::Tensor> norms;
  for (size_t i : with_grad) {
    const auto& g = params_[i].grad();  // a sparse one coalesced (step)
    norms.push_back(g.is_sparse() ? g._values().norm() : g.norm());
  }
  return torch::stack(norms).norm();
}

torch::Tensor Adam::step_fused_on_cpu(const torch::Tensor& loss, double lr, const std::vector<size_t>& with_grad) {
  double coef = 1;
  bool ok = std::isfinite(loss.item<double>());
  if (ok && options_.clip > 0) {
    const double total = gradient_norm(with_grad).item<double>();
    ok = std::isfinite(total);
    // As clip_grad_norm_: in float, from the norm rounded to float.
    coef = std::min(1.0, static_cast<double>(static_cast<float>(options_.clip) / (static_cast<float>(total) + 1e-6f)));
  }
  if (!ok) return torch::scalar_tensor(false);
  double* steps = steps_.data_ptr<double>();
  for (size_t i : with_grad) {
    const double n = ++steps[i];
    auto& p = params_[i];
    TORCH_CHECK(p.scalar_type() == torch::kFloat && p.is_contiguous(), "deca::Adam: parameter ", names_[i],
                " is not contiguous fp32");
    kernels::AdamUpdate a;
    a.weight = p.data_ptr<float>();
    a.exp_avg = state_[i].exp_avg.data_ptr();
    a.exp_avg_sq = state_[i].exp_avg_sq.data_ptr();
    a.bf16_moments = options_.state_dtype == torch::kBFloat16;
    a.beta1 = static_cast<float>(options_.beta1);
    a.beta2 = static_cast<float>(options_.beta2);
    a.eps = static_cast<float>(options_.eps);
    a.step_size = static_cast<float>(lr * lr_scale_[i] / (1 - std::pow(options_.beta1, n)));
    a.inv_sqrt_correction2 = static_cast<float>(1 / std::sqrt(1 - std::pow(options_.beta2, n)));
    a.grad_scale = static_cast<float>(coef);
    a.rounding_key = rounding_key(i, static_cast<uint64_t>(n));
    const auto& grad = p.grad();
    if (!grad.is_sparse()) {
      const auto g = grad.contiguous();
      const float* gp = g.data_ptr<float>();
      kernels::parallel_for(0, p.numel(), 1 << 14,
                            [&](int64_t begin, int64_t end) { kernels::adam_update(a, begin, end, gp + begin); });
      continue;
    }
    // Rows without a gradient take the update of a zero gradient, as in a
    // dense table (their moments decay and still move the weights).
    const int64_t width = p.numel() / std::max<int64_t>(1, p.size(0));
    const auto rows = grad._indices()[0].contiguous();
    const auto values = grad._values().contiguous();
    const int64_t* row = rows.data_ptr<int64_t>();
    const float* value = values.data_ptr<float>();
    const int64_t listed = rows.numel();
    kernels::parallel_for(
        0, p.size(0), std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, width)), [&](int64_t begin, int64_t end) {
          int64_t j = std::lower_bound(row, row + listed, begin) - row;  // rows are sorted and distinct (coalesced)
          for (int64_t r = begin; r < end; ++r) {
            const bool has = j < listed && row[j] == r;
            kernels::adam_update(a, r * width, (r + 1) * width, has ? value + j * width : nullptr);
            if (has) ++j;
          }
        });
  }
  return torch::scalar_tensor(true);
}

torch::Tensor Adam::step_with_tensor_ops(const torch::Tensor& loss, double lr, const std::vector<size_t>& with_grad) {
  torch::Tensor ok = torch::isfinite(loss.detach()).reshape({});
  torch::Tensor coef;  // the clipping factor, as LibTorch's clip_grad_norm_ computes it
  if (options_.clip > 0) {
    const auto total = gradient_norm(with_grad);
    ok = ok.logical_and(torch::isfinite(total));
    coef = (options_.clip / (total + 1e-6)).clamp_max(1.0).masked_fill(ok.logical_not(), 0.0).to(torch::kFloat);
  }
  const auto okf = ok.to(torch::kFloat64);
  // Per parameter, from its count of applied steps (float64: exact counts,
  // the bias corrections as LibTorch computes them in double).
  if (with_grad.size() == params_.size()) {
    steps_.add_(okf);
  } else {
    const auto index = torch::tensor(std::vector<int64_t>(with_grad.begin(), with_grad.end())).to(steps_.device());
    steps_.index_add_(0, index, okf.expand({index.size(0)}));
  }
  const auto counted = steps_.clamp_min(1.0);  // a parameter never updated: any finite value, it is multiplied by 0
  auto step_size = -lr * okf / (1 - torch::pow(options_.beta1, counted));
  if (lr_scale_on_device_.defined()) step_size = step_size * lr_scale_on_device_;
  step_size = step_size.to(torch::kFloat);
  const auto inv_sqrt_bc2 = torch::rsqrt(1 - torch::pow(options_.beta2, counted)).to(torch::kFloat);
  const auto keep1 = torch::where(ok, torch::scalar_tensor(options_.beta1, okf.options()), 1.0).to(torch::kFloat);
  const auto keep2 = torch::where(ok, torch::scalar_tensor(options_.beta2, okf.options()), 1.0).to(torch::kFloat);
  const auto skip = ok.logical_not();
  const bool bf16_state = options_.state_dtype == torch::kBFloat16;
  const auto step_counts = steps_.to(torch::kInt64);
  for (size_t i : with_grad) {
    auto& p = params_[i];
    auto& s = state_[i];
    // A skipped step's gradient counts as zero, and the moments' decay as 1:
    // nothing changes, with no branch on the host (in bfloat16 too: an exact
    // value rounds to itself).
    auto g = (p.grad().is_sparse() ? p.grad().to_dense() : p.grad()).masked_fill(skip, 0.0);
    if (coef.defined()) g.mul_(coef);
    // fp32 moments are updated in place; bfloat16 ones through fp32 copies.
    auto m = bf16_state ? s.exp_avg.to(torch::kFloat) : s.exp_avg;
    auto v = bf16_state ? s.exp_avg_sq.to(torch::kFloat) : s.exp_avg_sq;
    m.mul_(keep1).add_(g, 1 - options_.beta1);
    v.mul_(keep2).addcmul_(g, g, 1 - options_.beta2);
    const auto denom = v.sqrt().mul_(inv_sqrt_bc2[static_cast<int64_t>(i)]).add_(options_.eps);
    p.addcmul_(m / denom, step_size[static_cast<int64_t>(i)]);
    if (bf16_state) {
      const auto key =
          splitmix64(step_counts[static_cast<int64_t>(i)].bitwise_xor(static_cast<int64_t>(deca::splitmix64(i + 1))));
      const auto r = rounding_bits(key, p.numel()).view(p.sizes());
      round_stochastic_into(s.exp_avg, m, r.bitwise_and(0xffff));
      round_stochastic_into(s.exp_avg_sq, v, shift_right(r, 16));
    }
  }
  return ok;
}

std::string Adam::to_bytes() const {
  std::map<std::string, torch::Tensor> tensors;
  const auto steps = steps_.to(torch::kCPU);
  for (size_t i = 0; i < params_.size(); ++i) {
    tensors[names_[i] + ".exp_avg"] = state_[i].exp_avg;
    tensors[names_[i] + ".exp_avg_sq"] = state_[i].exp_avg_sq;
    tensors[names_[i] + ".step"] = steps[static_cast<int64_t>(i)].clone();
  }
  return model::encode_safetensors(tensors, {{"format", "deca-adam"}});
}

namespace {

std::string first_line(const char* what) {
  std::string s(what);
  return s.substr(0, s.find('\n'));
}

// torch::optim's state key of a parameter: its TensorImpl's address, printed
// (LibTorch 1.x) or itself (2.x).
template <class Map>
typename Map::key_type state_key(const Map&, const torch::Tensor& p) {
  if constexpr (std::is_same_v<typename Map::key_type, std::string>) {
    std::ostringstream key;
    key << static_cast<const void*>(p.unsafeGetTensorImpl());
    return key.str();
  } else {
    return p.unsafeGetTensorImpl();
  }
}

}  // namespace

void Adam::load(const fs::path& file, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> steps(params_.size());
  if (file.extension() == ".safetensors") {
    auto stored = model::read_safetensors(file);
    auto take = [&](const std::string& name, c10::IntArrayRef shape) {
      auto it = stored.find(name);
      if (it == stored.end())
        throw DataError::at(file.string(), 0, "has no optimizer state \"" + name + "\" for the model's parameters");
      if (it->second.sizes() != shape)
        throw DataError::at(file.string(), 0,
                            "optimizer state \"" + name + "\" has shape " + c10::str(it->second.sizes()) +
                                ", the parameter has " + c10::str(shape));
      auto t = it->second;
      stored.erase(it);
      return t;
    };
    // Moments that no Adam step can produce (non-finite, a negative second
    // moment) would train on silently wrong: an error naming the state.
    auto check = [&](const std::string& name, const torch::Tensor& t, bool non_negative) {
      if (!torch::isfinite(t).all().item<bool>())
        throw DataError::at(file.string(), 0,
                            "optimizer state \"" + name + "\" holds non-finite values (NaN or infinity)");
      if (non_negative && (t < 0).any().item<bool>())
        throw DataError::at(file.string(), 0,
                            "optimizer state \"" + name +
                                "\" holds negative values (a second moment or "
                                "step count cannot be negative)");
      return t;
    };
    for (size_t i = 0; i < params_.size(); ++i) {
      const std::string m = names_[i] + ".exp_avg", v = names_[i] + ".exp_avg_sq", n = names_[i] + ".step";
      state_[i].exp_avg.copy_(check(m, take(m, params_[i].sizes()), false));
      state_[i].exp_avg_sq.copy_(check(v, take(v, params_[i].sizes()), true));
      steps[i] = check(n, take(n, {}), true).to(torch::kFloat64);
    }
    if (!stored.empty())
      throw DataError::at(
          file.string(), 0,
          "has optimizer state \"" + stored.begin()->first + "\" for a parameter the model does not train");
  } else {
    // torch::optim::Adam's archive, over every parameter in the model's order.
    torch::optim::Adam legacy(all_, torch::optim::AdamOptions());
    try {
      torch::load(legacy, file.string(), device);
    } catch (const c10::Error& e) {
      throw DataError::at(file.string(), 0, "cannot read the optimizer state: " + first_line(e.what()));
    }
    const auto& states = legacy.state();
    for (size_t i = 0; i < params_.size(); ++i) {
      auto it = states.find(state_key(states, params_[i]));
      if (it == states.end()) {
        steps[i] = torch::zeros({}, torch::kFloat64);
        continue;
      }
      const auto& s = static_cast<const torch::optim::AdamParamState&>(*it->second);
      state_[i].exp_avg.copy_(s.exp_avg());
      state_[i].exp_avg_sq.copy_(s.exp_avg_sq());
      steps[i] = torch::full({}, static_cast<double>(s.step()), torch::kFloat64);
    }
  }
  if (!params_.empty()) steps_.copy_(torch::stack(steps).to(steps_.device()));
}

}  // namespace deca
