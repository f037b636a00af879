#include "deca/data/tokenizer.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/core/sha1.h"
#include "deca/text/revtok.h"
#include "deca/text/strings.h"
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
  static const SpmApi a{deca_spm_load,        deca_spm_free,   deca_spm_vocab_size,
                        deca_spm_special_ids, deca_spm_encode, deca_spm_decode,
                        deca_spm_id_to_piece, deca_spm_train,  "linked"};
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

// A new folder for SentencePiece's files: under the system's temporary
// folder, or /tmp when that path holds a space.
fs::path make_work_folder() {
  std::string base = fs::temp_directory_path().string();
  if (base.find(' ') != std::string::npos) base = "/tmp";
  std::string templ = base + "/deca-spm-XXXXXX";
  if (!::mkdtemp(templ.data()))
    throw Error("cannot make a folder in " + base + " to train the tokenizer: " + std::strerror(errno));
  return templ;
}

fs::path sidecar(const fs::path& model_file) {
  fs::path p = model_file;
  return p.replace_extension(".json");
}

// Scheme "words": how a revtok word is spelled for SentencePiece. Its leading
// half space stays a space (SentencePiece's "▁" word start), its trailing one
// becomes kTrail, and the three marks in the word's own text are escaped.
constexpr std::string_view kSpaceMark = "\xe2\x96\x81";  // U+2581 "▁"
constexpr std::string_view kTrail = "\xee\x80\x80";      // U+E000 (private use)
constexpr std::string_view kEscape = "\xee\x80\x81";     // U+E001: the next character is literal

bool is_mark(std::string_view s, size_t i) {
  for (auto m : {kSpaceMark, kTrail, kEscape})
    if (s.compare(i, m.size(), m) == 0) return true;
  return false;
}

std::string spell_word(std::string_view word) {
  std::string out;
  size_t b = 0, e = word.size();
  if (e > 0 && word[0] == ' ') out += ' ', b = 1;
  const bool trail = e > b && word[e - 1] == ' ';
  if (trail) --e;
  for (size_t i = b; i < e; ++i) {
    if (is_mark(word, i)) {
      out += kEscape;
      out.append(word.substr(i, 3));
      i += 2;
    } else {
      out += word[i];
    }
  }
  if (trail) out += kTrail;
  return out;
}

// The text of concatenated surfaces: marks become half spaces, escapes literal
// characters, and the half spaces collapse as revtok detokenizes.
std::string unspell(std::string_view joined) {
  std::string out;
  out.reserve(joined.size());
  for (size_t i = 0; i < joined.size(); ++i) {
    if (joined.compare(i, kEscape.size(), kEscape) == 0 && i + kEscape.size() < joined.size()) {
      i += kEscape.size();
      const auto lead = static_cast<unsigned char>(joined[i]);
      const size_t n = lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
      out.append(joined.substr(i, n));
      i += n - 1;
    } else if (joined.compare(i, 3, kSpaceMark) == 0 || joined.compare(i, 3, kTrail) == 0) {
      out += ' ';
      i += 2;
    } else {
      out += joined[i];
    }
  }
  return text::collapse_half_spaces(out);
}

// "<0x41>" -> "A" for SentencePiece's byte-fallback pieces.
bool byte_piece(const std::string& p, char* byte) {
  if (p.size() != 6 || p.compare(0, 3, "<0x") != 0 || p[5] != '>') return false;
  unsigned v = 0;
  for (int i = 3; i < 5; ++i) {
    const char c = p[static_cast<size_t>(i)];
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    v = v * 16 +
        static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::toupper(c) - 'A' + 10);
  }
  *byte = static_cast<char>(v);
  return true;
}

std::string raw_piece(void* handle, int32_t id) {
  std::string out(64, '\0');
  long n = api().id_to_piece(handle, id, out.data(), out.size());
  if (n < 0) return {};
  if (static_cast<size_t>(n) > out.size()) {
    out.resize(static_cast<size_t>(n));
    n = api().id_to_piece(handle, id, out.data(), out.size());
  }
  out.resize(static_cast<size_t>(n));
  return out;
}

std::vector<int32_t> spm_encode(void* handle, std::string_view in) {
  std::vector<int32_t> ids(in.size() + 16);
  long n = api().encode(handle, in.data(), in.size(), ids.data(), ids.size());
  if (n < 0) throw Error("cannot tokenize: " + std::string(in.substr(0, 80)));
  if (static_cast<size_t>(n) > ids.size()) {
    ids.resize(static_cast<size_t>(n));
    n = api().encode(handle, in.data(), in.size(), ids.data(), ids.size());
  }
  ids.resize(static_cast<size_t>(n));
  return ids;
}

}  // namespace

// The pieces of each word met so far: words repeat (Zipf), SentencePiece calls cost.
struct Tokenizer::Memo {
  static constexpr size_t kMaxWords = 2'000'000;
  std::mutex mutex;
  std::unordered_map<std::string, std::vector<int32_t>> pieces;
};

Tokenizer::Tokenizer() = default;

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
      t->scheme_ = j.value("scheme", std::string("pieces"));  // deca's first tokenizers wrote no scheme
    } catch (const std::exception& e) {
      throw DataError::at(
          side.string(), 0,
          std::string("expected {\"lowercase\": true|false, \"scheme\": \"words\"|\"pieces\"}: ") + e.what());
    }
    if (t->scheme_ != "words" && t->scheme_ != "pieces")
      throw DataError::at(side.string(), 0,
                          "unknown tokenizer scheme \"" + t->scheme_ +
                              "\" (this deca knows words and pieces); retrain it with "
                              "deca-data tokenizer or let deca-train train one");
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
  t->surface_.resize(static_cast<size_t>(t->vocab_size_));
  t->word_marks_.assign(static_cast<size_t>(t->vocab_size_), 0);
  for (int32_t id = 0; id < t->vocab_size_; ++id) {
    if (id == t->pad_id_ || id == t->unk_id_ || id == t->bos_id_ || id == t->eos_id_) continue;
    std::string p = raw_piece(t->handle_, id);
    char byte;
    if (byte_piece(p, &byte)) {
      p.assign(1, byte);
      if (t->scheme_ == "pieces") t->word_marks_[static_cast<size_t>(id)] = 3;
    } else if (t->scheme_ == "pieces") {
      t->word_marks_[static_cast<size_t>(id)] = 3;
    } else {
      const bool starts = p.compare(0, kSpaceMark.size(), kSpaceMark) == 0;
      const bool ends = p.size() >= kTrail.size() && p.compare(p.size() - kTrail.size(), kTrail.size(), kTrail) == 0;
      t->word_marks_[static_cast<size_t>(id)] = static_cast<unsigned char>((starts ? 1 : 0) | (ends ? 2 : 0));
    }
    t->surface_[static_cast<size_t>(id)] = std::move(p);
  }
  if (t->scheme_ == "words") t->memo_ = std::make_unique<Memo>();
  t->fingerprint_ = Sha1()
                        .update(read_file(model_file))
                        .update(t->lowercase_ ? "lower" : "cased")
                        .update(t->scheme_ == "words" ? "/words" : "")
                        .hex_digest();
  return t;
}

void Tokenizer::train(const std::vector<std::string>& texts, const TokenizerOptions& options,
                      const fs::path& model_file, unsigned int seed) {
  if (texts.empty()) throw Error("no text to train the tokenizer on");
  const bool words = options.scheme == "words";
  // Scheme pieces: one sentence per line. Scheme words: the distinct words with
  // their counts (SentencePiece's tsv input), so no piece can span two words.
  std::string corpus;
  if (words) {
    std::unordered_map<std::string, long> counts;
    for (const auto& t : texts)
      for (auto& w : text::revtok_tokenize(options.lowercase ? text::lower(t) : t)) ++counts[spell_word(w)];
    std::vector<std::pair<std::string, long>> sorted(counts.begin(), counts.end());
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (static_cast<long>(sorted.size()) > options.max_sentences)
      sorted.resize(static_cast<size_t>(options.max_sentences));
    for (const auto& [w, n] : sorted) {
      // Lines cannot hold these; such words are still encoded (byte fallback).
      if (w.find_first_of(std::string_view("\t\n\r\0", 4)) != std::string::npos) continue;
      corpus += w;
      corpus += '\t';
      corpus += std::to_string(n);
      corpus += '\n';
    }
  } else {
    for (const auto& t : texts) {
      std::string line = options.lowercase ? text::lower(t) : t;
      for (char& c : line)
        if (c == '\n' || c == '\r') c = ' ';
      corpus += line;
      corpus += '\n';
    }
  }
  // SentencePiece takes its options as one string split at spaces, so it
  // works in a folder of its own whose path has none; the files are then
  // written where they belong, the sidecar first: a tokenizer.model is only
  // ever there with its sidecar (a full disk between the two must not leave a
  // model that loads with the default scheme).
  const fs::path work = make_work_folder();
  struct Removed {
    fs::path dir;
    ~Removed() {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  } removed{work};
  const fs::path input = work / "corpus.txt", prefix = work / "spm";
  write_file_atomic(input, corpus);
  std::string args = "--input=" + input.string() + " --model_prefix=" + prefix.string() +
                     " --vocab_size=" + std::to_string(options.vocab_size) + " --model_type=" + options.model_type +
                     " --character_coverage=" + std::to_string(options.character_coverage) +
                     " --input_sentence_size=" + std::to_string(options.max_sentences) +
                     " --shuffle_input_sentence=true --byte_fallback=true --normalization_rule_name=identity"
                     " --pad_id=0 --unk_id=1 --bos_id=2 --eos_id=3 --hard_vocab_limit=false --max_sentence_length=65536"
                     " --num_threads=2 --minloglevel=2";
  // The words are already split by category (letters, numbers, symbols), and
  // the trailing mark (private use, no script) must join the piece before it.
  // A line is one word, so splitting by whitespace is off (a "▁" can then
  // only begin a piece, never end one, which the marks respect).
  if (words)
    args +=
        " --input_format=tsv --add_dummy_prefix=false --remove_extra_whitespaces=false --split_by_whitespace=false"
        " --split_by_unicode_script=false --split_by_number=false";
  char error[1024] = {0};
  const int rc = api().train(args.c_str(), seed, error, sizeof error);
  if (rc != 0) throw Error("training the tokenizer failed: " + std::string(error));
  write_file_atomic(sidecar(model_file),
                    nlohmann::json{{"lowercase", options.lowercase}, {"scheme", options.scheme}}.dump() + "\n");
  write_file_atomic(model_file, read_file(prefix.string() + ".model"));
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, std::vector<uint32_t>* word_ends) const {
  const std::string lowered = lowercase_ ? text::lower(text) : std::string();
  const std::string_view in = lowercase_ ? std::string_view(lowered) : text;
  if (word_ends) word_ends->clear();
  if (scheme_ == "pieces") {
    auto ids = spm_encode(handle_, in);
    if (word_ends)
      for (size_t i = 1; i <= ids.size(); ++i) word_ends->push_back(static_cast<uint32_t>(i));
    return ids;
  }
  std::vector<int32_t> ids;
  for (const auto& w : text::revtok_tokenize(in)) {
    {
      std::lock_guard<std::mutex> lock(memo_->mutex);
      auto it = memo_->pieces.find(w);
      if (it != memo_->pieces.end()) {
        ids.insert(ids.end(), it->second.begin(), it->second.end());
        if (word_ends) word_ends->push_back(static_cast<uint32_t>(ids.size()));
        continue;
      }
    }
    auto pieces = spm_encode(handle_, spell_word(w));
    ids.insert(ids.end(), pieces.begin(), pieces.end());
    if (word_ends) word_ends->push_back(static_cast<uint32_t>(ids.size()));
    std::lock_guard<std::mutex> lock(memo_->mutex);
    if (memo_->pieces.size() < Memo::kMaxWords) memo_->pieces.emplace(w, std::move(pieces));
  }
  return ids;
}

size_t Tokenizer::count_words(const std::vector<int32_t>& ids) const {
  size_t n = 0;
  bool after_end = true;
  for (int32_t id : ids) {
    if (id == pad_id_ || id == bos_id_ || id == eos_id_ || id == unk_id_) continue;
    if (starts_word(id) || after_end) ++n;
    after_end = ends_word(id);
  }
  return n;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  if (scheme_ == "words") {
    std::string joined;
    for (int32_t id : ids)
      if (id >= 0 && id < vocab_size_) joined += surface_[static_cast<size_t>(id)];
    return unspell(joined);
  }
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

std::string Tokenizer::decode_answer(const std::vector<int32_t>& ids) const {
  std::string text = decode(ids);
  return text::valid_utf8(text) ? text : text::encode_utf8(text::decode_utf8(text));
}

std::string Tokenizer::piece(int32_t id) const {
  std::string p = raw_piece(handle_, id);
  return scheme_ == "words" ? text::replace_all(p, kTrail, kSpaceMark) : p;
}

}  // namespace deca
