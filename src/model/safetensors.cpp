#include "deca/model/safetensors.h"

#include <nlohmann/json.hpp>

#include <cstring>

#include "deca/core/error.h"
#include "deca/core/io.h"

namespace deca::model {
namespace {

const std::map<torch::ScalarType, std::string> kNames = {
    {torch::kFloat32, "F32"}, {torch::kFloat64, "F64"}, {torch::kFloat16, "F16"}, {torch::kBFloat16, "BF16"},
    {torch::kInt64, "I64"},   {torch::kInt32, "I32"},   {torch::kInt8, "I8"},     {torch::kUInt8, "U8"},
    {torch::kBool, "BOOL"}};

std::map<std::string, torch::Tensor> named_tensors(const torch::nn::Module& module) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : module.named_parameters(true)) out[p.key()] = p.value();
  for (const auto& b : module.named_buffers(true)) out[b.key()] = b.value();
  return out;
}

}  // namespace

void save_safetensors(const torch::nn::Module& module, const std::filesystem::path& path,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header;
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string data;
  for (const auto& [name, tensor] : named_tensors(module)) {
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
  write_file_atomic(path, out);
}

std::map<std::string, torch::Tensor> read_safetensors(const std::filesystem::path& path) {
  const std::string bytes = read_file(path);
  uint64_t n = 0;
  if (bytes.size() < 8) throw DataError::at(path.string(), 0, "not a safetensors file (too short)");
  std::memcpy(&n, bytes.data(), 8);
  if (n > bytes.size() - 8) throw DataError::at(path.string(), 0, "not a safetensors file (bad header length)");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.substr(8, n));
  } catch (const std::exception& e) {
    throw DataError::at(path.string(), 0, std::string("not a safetensors file: ") + e.what());
  }
  const size_t base = 8 + n;
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    torch::ScalarType type = torch::kFloat32;
    bool known = false;
    for (const auto& [t, s] : kNames)
      if (s == info.at("dtype").get<std::string>()) type = t, known = true;
    if (!known) throw DataError::at(path.string(), 0, "tensor " + name + ": unsupported dtype " + info.at("dtype").dump());
    const auto shape = info.at("shape").get<std::vector<int64_t>>();
    const auto off = info.at("data_offsets").get<std::vector<size_t>>();
    auto t = torch::empty(shape, torch::TensorOptions().dtype(type));
    const size_t want = static_cast<size_t>(t.numel()) * t.element_size();
    if (off.size() != 2 || off[1] - off[0] != want || base + off[1] > bytes.size())
      throw DataError::at(path.string(), 0, "tensor " + name + ": data offsets do not match its shape");
    std::memcpy(t.data_ptr(), bytes.data() + base + off[0], want);
    out[name] = t;
  }
  return out;
}

void load_safetensors(torch::nn::Module& module, const std::filesystem::path& path) {
  auto stored = read_safetensors(path);
  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : named_tensors(module)) {
    auto it = stored.find(name);
    if (it == stored.end()) throw DataError::at(path.string(), 0, "has no tensor \"" + name + "\" that the model needs");
    if (it->second.sizes() != tensor.sizes())
      throw DataError::at(path.string(), 0, "tensor \"" + name + "\" has shape " + c10::str(it->second.sizes()) +
                                                ", the model expects " + c10::str(tensor.sizes()));
    tensor.copy_(it->second);
    stored.erase(it);
  }
  if (!stored.empty()) throw DataError::at(path.string(), 0, "has tensor \"" + stored.begin()->first + "\" that the model does not");
}

}  // namespace deca::model
