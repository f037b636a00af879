#include "deca/data/tokenizer.h"

#include <dlfcn.h>
#include <unistd.h>

#include <mutex>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/core/sha1.h"
#include "deca/text/unicode.h"
#include "tokenizer/spm_shim.h"

namespace fs = std::filesystem;

namespace deca {
namespace {

// The shim's entry points, resolved once.
struct SpmApi {
  decltype(&deca_spm_load) load;
  decltype(&deca_spm_free) free;
  decltype(&deca_spm_vocab_size) vocab_size;
  decltype(&deca_spm_special_ids) special_ids;
  decltype(&deca_spm_encode) encode;
  decltype(&deca_spm_decode) decode;
  decltype(&deca_spm_id_to_piece) id_to_piece;
  decltype(&deca_spm_train) train;
  std::string path;
};

#ifdef DECA_SPM_DIRECT
const SpmApi& api() {
  static const SpmApi a{deca_spm_load,   deca_spm_free,   deca_spm_vocab_size, deca_spm_special_ids,
                        deca_spm_encode, deca_spm_decode, deca_spm_id_to_piece, deca_spm_train, "linked"};
  return a;
}
#else
std::vector<fs::path> candidate_paths() {
  std::vector<fs::path> out;
  if (const char* env = std::getenv("DECA_SPM_LIBRARY"); env && *env) out.emplace_back(env);
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    const fs::path dir = fs::path(std::string(exe, static_cast<size_t>(n))).parent_path();
    out.push_back(dir / "libdeca_spm.so");
    out.push_back(dir / ".." / "lib" / "libdeca_spm.so");
  }
#ifdef DECA_SPM_BUILD_PATH
  out.emplace_back(DECA_SPM_BUILD_PATH);
#endif
#ifdef DECA_SPM_INSTALL_PATH
  out.emplace_back(DECA_SPM_INSTALL_PATH);
#endif
  return out;
}

const SpmApi& api() {
  static SpmApi a;
  static std::once_flag once;
  std::call_once(once, [] {
    std::string tried;
    void* lib = nullptr;
    for (const auto& p : candidate_paths()) {
      if (!fs::exists(p)) {
        tried += "\n  " + p.string() + " (not found)";
        continue;
      }
      // A fresh link namespace: SentencePiece's protobuf never meets LibTorch's.
      lib = ::dlmopen(LM_ID_NEWLM, p.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (lib) {
        a.path = fs::canonical(p).string();
        break;
      }
      tried += "\n  " + p.string() + " (" + ::dlerror() + ")";
    }
    if (!lib) throw Error("cannot load the tokenizer library libdeca_spm.so; set DECA_SPM_LIBRARY. Tried:" + tried);
    auto sym = [&](const char* name) {
      void* s = ::dlsym(lib, name);
      if (!s) throw Error(std::string("libdeca_spm.so lacks ") + name + ": " + ::dlerror());
      return s;
    };
    a.load = reinterpret_cast<decltype(a.load)>(sym("deca_spm_load"));
    a.free = reinterpret_cast<decltype(a.free)>(sym("deca_spm_free"));
    a.vocab_size = reinterpret_cast<decltype(a.vocab_size)>(sym("deca_spm_vocab_size"));
    a.special_ids = reinterpret_cast<decltype(a.special_ids)>(sym("deca_spm_special_ids"));
    a.encode = reinterpret_cast<decltype(a.encode)>(sym("deca_spm_encode"));
    a.decode = reinterpret_cast<decltype(a.decode)>(sym("deca_spm_decode"));
    a.id_to_piece = reinterpret_cast<decltype(a.id_to_piece)>(sym("deca_spm_id_to_piece"));
    a.train = reinterpret_cast<decltype(a.train)>(sym("deca_spm_train"));
  });
  return a;
}
#endif

fs::path sidecar(const fs::path& model_file) {
  fs::path p = model_file;
  return p.replace_extension(".json");
}

}  // namespace

std::string tokenizer_library_path() { return api().path; }

Tokenizer::~Tokenizer() {
  if (handle_) api().free(handle_);
}

std::shared_ptr<const Tokenizer> Tokenizer::load(const fs::path& model_file) {
  require_file(model_file, "a SentencePiece model written by deca (deca-train trains one)");
  std::shared_ptr<Tokenizer> t(new Tokenizer());
  t->model_file_ = model_file;
  const fs::path side = sidecar(model_file);
  if (fs::exists(side)) {
    try {
      const auto j = nlohmann::json::parse(read_file(side));
      t->lowercase_ = j.at("lowercase").get<bool>();
    } catch (const std::exception& e) {
      throw DataError::at(side.string(), 0, std::string("expected {\"lowercase\": true|false}: ") + e.what());
    }
  }
  char error[512] = {0};
  t->handle_ = api().load(model_file.c_str(), error, sizeof error);
  if (!t->handle_) throw DataError::at(model_file.string(), 0, std::string("not a SentencePiece model: ") + error);
  t->vocab_size_ = api().vocab_size(t->handle_);
  int unk, bos, eos, pad;
  api().special_ids(t->handle_, &unk, &bos, &eos, &pad);
  if (pad < 0 || bos < 0 || eos < 0)
    throw DataError::at(model_file.string(), 0, "the model needs pad, bos and eos pieces (train it with deca)");
  t->unk_id_ = unk;
  t->bos_id_ = bos;
  t->eos_id_ = eos;
  t->pad_id_ = pad;
  t->fingerprint_ = Sha1().update(read_file(model_file)).update(t->lowercase_ ? "lower" : "cased").hex_digest();
  return t;
}

void Tokenizer::train(const std::vector<std::string>& texts, const TokenizerOptions& options, const fs::path& model_file,
                      unsigned int seed) {
  if (texts.empty()) throw Error("no text to train the tokenizer on");
  // SentencePiece reads sentences one per line.
  std::string corpus;
  for (const auto& t : texts) {
    std::string line = options.lowercase ? text::lower(t) : t;
    for (char& c : line)
      if (c == '\n' || c == '\r') c = ' ';
    corpus += line;
    corpus += '\n';
  }
  fs::create_directories(model_file.parent_path().empty() ? fs::path(".") : model_file.parent_path());
  const fs::path input = model_file.string() + ".corpus.txt";
  write_file_atomic(input, corpus);
  fs::path prefix = model_file;
  prefix.replace_extension();
  const std::string args =
      "--input=" + input.string() + " --model_prefix=" + prefix.string() +
      " --vocab_size=" + std::to_string(options.vocab_size) + " --model_type=" + options.model_type +
      " --character_coverage=" + std::to_string(options.character_coverage) +
      " --input_sentence_size=" + std::to_string(options.max_sentences) +
      " --shuffle_input_sentence=true --byte_fallback=true --normalization_rule_name=identity"
      " --pad_id=0 --unk_id=1 --bos_id=2 --eos_id=3 --hard_vocab_limit=false --max_sentence_length=65536"
      " --num_threads=2 --minloglevel=2";
  char error[1024] = {0};
  const int rc = api().train(args.c_str(), seed, error, sizeof error);
  fs::remove(input);
  if (rc != 0) throw Error("training the tokenizer failed: " + std::string(error));
  if (prefix.string() + ".model" != model_file.string()) fs::rename(prefix.string() + ".model", model_file);
  fs::remove(prefix.string() + ".vocab");
  write_file_atomic(sidecar(model_file), nlohmann::json{{"lowercase", options.lowercase}}.dump() + "\n");
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  const std::string lowered = lowercase_ ? text::lower(text) : std::string();
  const std::string_view in = lowercase_ ? std::string_view(lowered) : text;
  std::vector<int32_t> ids(in.size() + 16);
  long n = api().encode(handle_, in.data(), in.size(), ids.data(), ids.size());
  if (n < 0) throw Error("cannot tokenize: " + std::string(in.substr(0, 80)));
  if (static_cast<size_t>(n) > ids.size()) {
    ids.resize(static_cast<size_t>(n));
    n = api().encode(handle_, in.data(), in.size(), ids.data(), ids.size());
  }
  ids.resize(static_cast<size_t>(n));
  return ids;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out(ids.size() * 8 + 16, '\0');
  long n = api().decode(handle_, ids.data(), ids.size(), out.data(), out.size());
  if (n < 0) throw Error("cannot detokenize " + std::to_string(ids.size()) + " ids");
  if (static_cast<size_t>(n) > out.size()) {
    out.resize(static_cast<size_t>(n));
    n = api().decode(handle_, ids.data(), ids.size(), out.data(), out.size());
  }
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string Tokenizer::piece(int32_t id) const {
  std::string out(64, '\0');
  long n = api().id_to_piece(handle_, id, out.data(), out.size());
  if (n < 0) return {};
  if (static_cast<size_t>(n) > out.size()) {
    out.resize(static_cast<size_t>(n));
    n = api().id_to_piece(handle_, id, out.data(), out.size());
  }
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace deca
