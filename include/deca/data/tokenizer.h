// SentencePiece behind one interface. The SentencePiece code lives in its own
// library (libdeca_spm.so) that is loaded with dlmopen into a separate link
// namespace, so that it works inside executables that also link LibTorch
// (Debian's two packages carry clashing protobuf copies). Byte fallback makes
// every input representable: no piece is ever unknown.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "deca/core/config.h"

namespace deca {

class Tokenizer {
 public:
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Loads a model written by train() (the .model file and its .json sidecar).
  static std::shared_ptr<const Tokenizer> load(const std::filesystem::path& model_file);
  // Trains a model on `texts` (lowercased first when options.lowercase) and
  // writes `model_file` and its sidecar.
  static void train(const std::vector<std::string>& texts, const TokenizerOptions& options,
                    const std::filesystem::path& model_file, unsigned int seed);

  std::vector<int32_t> encode(std::string_view text) const;
  std::string decode(const std::vector<int32_t>& ids) const;
  std::string piece(int32_t id) const;

  int32_t vocab_size() const { return vocab_size_; }
  int32_t pad_id() const { return pad_id_; }
  int32_t unk_id() const { return unk_id_; }
  int32_t bos_id() const { return bos_id_; }  // <init>: the decoder's first input
  int32_t eos_id() const { return eos_id_; }
  bool lowercase() const { return lowercase_; }
  // sha1 of the model bytes and options: part of every cache key.
  const std::string& fingerprint() const { return fingerprint_; }
  const std::filesystem::path& model_file() const { return model_file_; }

 private:
  Tokenizer() = default;
  void* handle_ = nullptr;
  int32_t vocab_size_ = 0, pad_id_ = 0, unk_id_ = 1, bos_id_ = 2, eos_id_ = 3;
  bool lowercase_ = true;
  std::string fingerprint_;
  std::filesystem::path model_file_;
};

// Where libdeca_spm.so was loaded from ("linked" when built with DECA_SPM_DIRECT).
std::string tokenizer_library_path();

}  // namespace deca
