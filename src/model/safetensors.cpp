#include "deca/model/safetensors.h"

#include <nlohmann/json.hpp>

#include <cstring>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/core/safetensors_format.h"

namespace deca::model {
namespace {

const std::map<torch::ScalarType, std::string> kNames = {
    {torch::kFloat32, "F32"},   {torch::kFloat64, "F64"}, {torch::kFloat16, "F16"},
    {torch::kBFloat16, "BF16"}, {torch::kInt64, "I64"},   {torch::kInt32, "I32"},
    {torch::kInt8, "I8"},       {torch::kUInt8, "U8"},    {torch::kBool, "BOOL"}};

std::map<std::string, torch::Tensor> named_tensors(const torch::nn::Module& module) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : module.named_parameters(true)) out[p.key()] = p.value();
  for (const auto& b : module.named_buffers(true)) out[b.key()] = b.value();
  return out;
}

}  // namespace

std::string encode_safetensors(const std::map<std::string, torch::Tensor>& tensors,
                               const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header;
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string data;
  for (const auto& [name, tensor] : tensors) {
    auto t = tensor.detach().to(torch::kCPU).contiguous();
    const size_t bytes = static_cast<size_t>(t.numel()) * t.element_size();
    header[name] = {{"dtype", kNames.at(t.scalar_type())},
                    {"shape", t.sizes().vec()},
                    {"data_offsets", {data.size(), data.size() + bytes}}};
    data.append(static_cast<const char*>(t.data_ptr()), bytes);
  }
  std::string head = header.dump();
  head.append((8 - head.size() % 8) % 8, ' ');  // align the data to 8 bytes
  std::string out(8, '\0');
  const uint64_t n = head.size();
  std::memcpy(out.data(), &n, 8);
  out += head;
  out += data;
  return out;
}

std::string encode_safetensors(const torch::nn::Module& module, const std::map<std::string, std::string>& metadata) {
  return encode_safetensors(named_tensors(module), metadata);
}

void save_safetensors(const torch::nn::Module& module, const std::filesystem::path& path,
                      const std::map<std::string, std::string>& metadata) {
  write_file_atomic(path, encode_safetensors(module, metadata));
}

std::map<std::string, torch::Tensor> read_safetensors(const std::filesystem::path& path) {
  const std::string bytes = read_file(path);
  const auto layout = parse_safetensors(bytes, path.string());
  std::map<std::string, torch::Tensor> out;
  for (const auto& r : layout.tensors) {
    torch::ScalarType type = torch::kFloat32;
    for (const auto& [t, s] : kNames)
      if (s == r.dtype) type = t;
    auto t = torch::empty(r.shape, torch::TensorOptions().dtype(type));
    std::memcpy(t.data_ptr(), bytes.data() + r.begin, r.end - r.begin);
    out[r.name] = t;
  }
  return out;
}

void load_safetensors(torch::nn::Module& module, const std::filesystem::path& path) {
  auto stored = read_safetensors(path);
  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : named_tensors(module)) {
    auto it = stored.find(name);
    if (it == stored.end())
      throw DataError::at(path.string(), 0, "has no tensor \"" + name + "\" that the model needs");
    if (it->second.sizes() != tensor.sizes())
      throw DataError::at(path.string(), 0,
                          "tensor \"" + name + "\" has shape " + c10::str(it->second.sizes()) + ", the model expects " +
                              c10::str(tensor.sizes()));
    if (it->second.is_floating_point() && !torch::isfinite(it->second).all().item<bool>())
      throw DataError::at(path.string(), 0,
                          "tensor \"" + name +
                              "\" holds non-finite values (NaN or infinity): these "
                              "weights diverged; use an earlier checkpoint");
    tensor.copy_(it->second);
    stored.erase(it);
  }
  if (!stored.empty())
    throw DataError::at(path.string(), 0, "has tensor \"" + stored.begin()->first + "\" that the model does not");
}

}  // namespace deca::model
