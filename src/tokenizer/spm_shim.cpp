// The only code that links SentencePiece. It is built as its own shared
// library with a plain C interface, so that executables that also link
// LibTorch can load it in a separate link namespace (dlmopen): Debian's
// SentencePiece and LibTorch carry clashing protobuf copies (docs/design.md).
// Only plain data and caller-owned buffers cross this interface.
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstring>
#include <string>

#include "spm_shim.h"

namespace {
void copy_message(const std::string& msg, char* out, size_t cap) {
  if (!out || cap == 0) return;
  const size_t n = std::min(msg.size(), cap - 1);
  std::memcpy(out, msg.data(), n);
  out[n] = '\0';
}
}  // namespace

// Exported by libsentencepiece (0.1.9x) without a public declaration.
namespace sentencepiece::logging {
void SetMinLogLevel(int v);
}

extern "C" {

void* deca_spm_load(const char* model_path, char* error, size_t error_cap) {
  auto* sp = new sentencepiece::SentencePieceProcessor();
  const auto status = sp->Load(model_path);
  if (!status.ok()) {
    copy_message(status.ToString(), error, error_cap);
    delete sp;
    return nullptr;
  }
  return sp;
}

void deca_spm_free(void* handle) { delete static_cast<sentencepiece::SentencePieceProcessor*>(handle); }

int deca_spm_vocab_size(const void* handle) {
  return static_cast<const sentencepiece::SentencePieceProcessor*>(handle)->GetPieceSize();
}

void deca_spm_special_ids(const void* handle, int* unk, int* bos, int* eos, int* pad) {
  const auto* sp = static_cast<const sentencepiece::SentencePieceProcessor*>(handle);
  *unk = sp->unk_id();
  *bos = sp->bos_id();
  *eos = sp->eos_id();
  *pad = sp->pad_id();
}

long deca_spm_encode(const void* handle, const char* text, size_t length, int* ids, size_t capacity) {
  const auto* sp = static_cast<const sentencepiece::SentencePieceProcessor*>(handle);
  std::vector<int> out;
  if (!sp->Encode(absl::string_view(text, length), &out).ok()) return -1;
  const size_t n = std::min(out.size(), capacity);
  if (n) std::memcpy(ids, out.data(), n * sizeof(int));
  return static_cast<long>(out.size());
}

long deca_spm_decode(const void* handle, const int* ids, size_t count, char* text, size_t capacity) {
  const auto* sp = static_cast<const sentencepiece::SentencePieceProcessor*>(handle);
  std::string out;
  if (!sp->Decode(std::vector<int>(ids, ids + count), &out).ok()) return -1;
  const size_t n = std::min(out.size(), capacity);
  if (n) std::memcpy(text, out.data(), n);
  return static_cast<long>(out.size());
}

long deca_spm_id_to_piece(const void* handle, int id, char* text, size_t capacity) {
  const auto* sp = static_cast<const sentencepiece::SentencePieceProcessor*>(handle);
  if (id < 0 || id >= sp->GetPieceSize()) return -1;
  const std::string& piece = sp->IdToPiece(id);
  const size_t n = std::min(piece.size(), capacity);
  if (n) std::memcpy(text, piece.data(), n);
  return static_cast<long>(piece.size());
}

int deca_spm_train(const char* args, unsigned int seed, char* error, size_t error_cap) {
  sentencepiece::SetRandomGeneratorSeed(seed);
  // Train() logs its whole command line at INFO before it reads
  // --minloglevel from it: the level is set first.
  sentencepiece::logging::SetMinLogLevel(2);
  const auto status = sentencepiece::SentencePieceTrainer::Train(args);
  if (!status.ok()) {
    copy_message(status.ToString(), error, error_cap);
    return 1;
  }
  return 0;
}

}  // extern "C"
