// Weights by parameter name in the safetensors format (an 8-byte header length,
// a JSON header of name -> dtype, shape, byte offsets, then the raw data), so
// a deca model can be loaded from Python or any framework that reads it.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>

namespace deca::model {

// The file's bytes: the tensors by name (contiguous, CPU, little endian).
std::string encode_safetensors(const std::map<std::string, torch::Tensor>& tensors,
                               const std::map<std::string, std::string>& metadata = {});
// The same for every parameter and buffer of `module`.
std::string encode_safetensors(const torch::nn::Module& module,
                               const std::map<std::string, std::string>& metadata = {});

// Writes every parameter and buffer of `module` (contiguous, CPU, little endian), atomically.
void save_safetensors(const torch::nn::Module& module, const std::filesystem::path& path,
                      const std::map<std::string, std::string>& metadata = {});

// Reads all tensors of a safetensors file.
std::map<std::string, torch::Tensor> read_safetensors(const std::filesystem::path& path);

// Copies tensors into `module` by name; a missing or extra name or a shape
// mismatch is an error naming the tensor.
void load_safetensors(torch::nn::Module& module, const std::filesystem::path& path);

}  // namespace deca::model
