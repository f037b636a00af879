// The units the model reads, writes and copies. Scheme "words" (the default,
// see docs/decisions.md): text is first split into decaNLP's reversible revtok
// tokens ("words" below), and each word is segmented by SentencePiece on its
// own, so a word is the same piece sequence wherever it appears and the pointer
// can copy it; word boundaries and spaces live in the pieces (a leading "▁" and
// a trailing half-space mark), so decode(encode(x)) == x. Scheme "pieces" is
// SentencePiece over raw text, as deca's first tokenizers were trained; such
// models still load (their sidecar has no "scheme").
//
// The SentencePiece code lives in its own
// library (libdeca_spm.so) that is loaded with dlmopen into a separate link
// namespace, so that it works inside executables that also link LibTorch
// (Debian's two packages carry clashing protobuf copies). Byte fallback makes
// every input representable: no piece is ever unknown.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
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

  // The ids of `text`; `word_ends`, when given, receives for each word the
  // number of pieces up to its end (scheme "pieces": every piece is a word).
  std::vector<int32_t> encode(std::string_view text, std::vector<uint32_t>* word_ends = nullptr) const;
  // The text of `ids`; special ids (pad, bos, eos, unk) are skipped.
  std::string decode(const std::vector<int32_t>& ids) const;
  // decode() of a generated answer, as well-formed UTF-8: byte pieces that form
  // no character (a model can emit any piece sequence; encode() never makes
  // one) become U+FFFD, as SentencePiece's own decoder does, so that every
  // answer can be scored and written as JSON. decode() keeps the bytes, so
  // that encoded inputs round-trip exactly.
  std::string decode_answer(const std::vector<int32_t>& ids) const;
  // A piece for display, spaces shown as "▁" (SentencePiece's spelling).
  std::string piece(int32_t id) const;
  // Whether piece `id` begins a word, or ends one (scheme "words": from its
  // space marks; "pieces": every piece is a word). The decoder counts words with these.
  bool starts_word(int32_t id) const { return id >= 0 && id < vocab_size_ && (word_marks_[id] & 1); }
  bool ends_word(int32_t id) const { return id >= 0 && id < vocab_size_ && (word_marks_[id] & 2); }
  // Words in `ids` by the marks above.
  size_t count_words(const std::vector<int32_t>& ids) const;

  int32_t vocab_size() const { return vocab_size_; }
  int32_t pad_id() const { return pad_id_; }
  int32_t unk_id() const { return unk_id_; }
  int32_t bos_id() const { return bos_id_; }  // <init>: the decoder's first input
  int32_t eos_id() const { return eos_id_; }
  bool lowercase() const { return lowercase_; }
  const std::string& scheme() const { return scheme_; }  // "words" or "pieces"
  // sha1 of the model bytes and options: part of every cache key.
  const std::string& fingerprint() const { return fingerprint_; }
  const std::filesystem::path& model_file() const { return model_file_; }

 private:
  Tokenizer();
  void* handle_ = nullptr;
  int32_t vocab_size_ = 0, pad_id_ = 0, unk_id_ = 1, bos_id_ = 2, eos_id_ = 3;
  bool lowercase_ = true;
  std::string scheme_ = "pieces";
  std::vector<std::string> surface_;       // scheme words: each id's bytes (half spaces as ' ', escapes kept)
  std::vector<unsigned char> word_marks_;  // bit 0: starts a word, bit 1: ends one
  std::string fingerprint_;
  struct Memo;
  std::unique_ptr<Memo> memo_;  // scheme words: pieces of the words seen so far
  std::filesystem::path model_file_;
};

// Where libdeca_spm.so was loaded from ("linked" when built with DECA_SPM_DIRECT).
std::string tokenizer_library_path();

}  // namespace deca
