#include "deca/data/encoded.h"

#include "deca/core/log.h"

#include <cstring>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/core/sha1.h"
#include "deca/text/unicode.h"

namespace fs = std::filesystem;

namespace deca {
namespace {

constexpr char kMagic[] = "DECA-CACHE-3\n";
constexpr size_t kMagicLen = sizeof(kMagic) - 1;

template <class T>
void put(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
template <class T>
void put_vector(std::string& out, const std::vector<T>& v) {
  put(out, static_cast<uint64_t>(v.size()));
  out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  template <class T>
  bool get(T& v) {
    if (pos_ + sizeof v > s_.size()) return false;
    std::memcpy(&v, s_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return true;
  }
  template <class T>
  bool get_vector(std::vector<T>& v) {
    uint64_t n;
    if (!get(n) || n > (s_.size() - pos_) / sizeof(T)) return false;
    v.resize(n);
    std::memcpy(v.data(), s_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
    return true;
  }
  size_t pos() const { return pos_; }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

std::string serialize(const EncodedSplit& e, const std::string& key) {
  std::string out(kMagic);
  out += key;
  put(out, e.truncated_contexts);
  put(out, e.truncated_questions);
  put(out, e.dropped);
  put(out, e.dropped_long_answer);
  put(out, e.dropped_long_context);
  put(out, e.dropped_empty);
  put(out, e.dropped_placeholder);
  put_vector(out, e.source);
  put_vector(out, e.spans);
  put_vector(out, e.ids);
  out += sha1_hex(out);  // checksum of everything before it
  return out;
}

// Why the bytes cannot be used, or empty when they can.
std::string deserialize(const std::string& bytes, const std::string& key, EncodedSplit* e) {
  if (bytes.size() < kMagicLen + key.size() + 40 || bytes.compare(0, kMagicLen, kMagic) != 0)
    return "not a deca cache file";
  if (bytes.compare(kMagicLen, key.size(), key) != 0) return "stale (key differs)";
  const std::string_view body(bytes.data(), bytes.size() - 40);
  if (sha1_hex(body) != std::string_view(bytes).substr(bytes.size() - 40)) return "corrupt (checksum differs)";
  Reader r(body.substr(kMagicLen + key.size()));
  if (!r.get(e->truncated_contexts) || !r.get(e->truncated_questions) || !r.get(e->dropped) ||
      !r.get(e->dropped_long_answer) || !r.get(e->dropped_long_context) || !r.get(e->dropped_empty) ||
      !r.get(e->dropped_placeholder) || !r.get_vector(e->source) || !r.get_vector(e->spans) || !r.get_vector(e->ids))
    return "corrupt (truncated)";
  if (e->spans.size() != 3 * e->source.size()) return "corrupt (inconsistent sizes)";
  for (const auto& s : e->spans)
    if (s.offset + s.length > e->ids.size()) return "corrupt (span out of range)";
  return {};
}

void append(EncodedSplit& e, const std::vector<int32_t>& ids, size_t pieces) {
  const size_t n = std::min(ids.size(), pieces);
  e.spans.push_back({e.ids.size(), static_cast<uint32_t>(n)});
  e.ids.insert(e.ids.end(), ids.begin(), ids.begin() + static_cast<long>(n));
}

// The pieces that hold the first `words` words.
size_t pieces_of_words(const std::vector<int32_t>& ids, const std::vector<uint32_t>& word_ends, long words) {
  return static_cast<long>(word_ends.size()) > words ? word_ends[static_cast<size_t>(words) - 1] : ids.size();
}

bool is_placeholder_summary(const std::string& answer) {
  return text::lower(answer).find("this page includes the show") != std::string::npos;
}

}  // namespace

bool truncates_training_contexts(const std::string& task_name) {
  return task_name.find("cnn") != std::string::npos || task_name.find("dailymail") != std::string::npos;
}

EncodedSplit encode(const std::vector<Example>& examples, const Tokenizer& tokenizer, const EncodeOptions& options) {
  EncodedSplit e;
  std::vector<uint32_t> context_ends, question_ends, answer_ends;
  for (size_t i = 0; i < examples.size(); ++i) {
    const auto& ex = examples[i];
    const auto context = tokenizer.encode(ex.context, &context_ends);
    const auto question = tokenizer.encode(ex.question, &question_ends);
    const auto answer = tokenizer.encode(ex.answer(), &answer_ends);
    const long context_words = static_cast<long>(context_ends.size());
    if (options.training) {
      long* reason = nullptr;
      if (static_cast<long>(answer_ends.size()) > options.max_answer_tokens)
        reason = &e.dropped_long_answer;
      else if (!options.truncate_contexts && context_words > options.max_context_tokens)
        reason = &e.dropped_long_context;
      else if (context.empty() || answer.empty())
        reason = &e.dropped_empty;
      else if (is_placeholder_summary(ex.answer()))
        reason = &e.dropped_placeholder;
      if (reason) {
        ++*reason;
        ++e.dropped;
        continue;
      }
    }
    if (context_words > options.max_context_tokens) ++e.truncated_contexts;
    if (static_cast<long>(question_ends.size()) > options.max_question_tokens) ++e.truncated_questions;
    append(e, context, pieces_of_words(context, context_ends, options.max_context_tokens));
    append(e, question, pieces_of_words(question, question_ends, options.max_question_tokens));
    append(e, answer, answer.size());
    e.source.push_back(static_cast<uint32_t>(i));
  }
  return e;
}

std::string cache_key(const std::vector<Example>& examples, const Tokenizer& tokenizer, const EncodeOptions& options) {
  Sha1 h;
  h.update("deca-encoded-v3");
  h.update(tokenizer.fingerprint());
  const std::string opts = std::to_string(options.max_context_tokens) + "/" +
                           std::to_string(options.max_question_tokens) + "/" +
                           std::to_string(options.max_answer_tokens) + "/" + (options.training ? "train" : "eval") +
                           (options.truncate_contexts ? "/truncate" : "");
  h.update(opts);
  const char sep = '\x1f';
  for (const auto& ex : examples) {
    h.update(ex.context).update(std::string_view(&sep, 1));
    h.update(ex.question).update(std::string_view(&sep, 1));
    h.update(ex.answer()).update(std::string_view(&sep, 1));
  }
  return h.hex_digest();
}

EncodedSplit encode_cached(const std::vector<Example>& examples, const Tokenizer& tokenizer,
                           const EncodeOptions& options, const std::filesystem::path& cache_dir,
                           const std::string& name, bool* hit) {
  const std::string key = cache_key(examples, tokenizer, options);
  const fs::path file = cache_dir / (name + ".bin");
  if (hit) *hit = false;
  if (fs::exists(file)) {
    EncodedSplit e;
    std::string why;
    try {
      why = deserialize(read_file(file), key, &e);
    } catch (const Error& err) {
      why = err.what();
    }
    if (why.empty()) {
      if (hit) *hit = true;
      return e;
    }
    log::info("cache {} is {}: rebuilding it", file.string(), why);
  }
  EncodedSplit e = encode(examples, tokenizer, options);
  try {
    write_file_atomic(file, serialize(e, key));
  } catch (const Error& err) {
    log::warn("cannot write the cache {}: {}", file.string(), err.what());
  }
  return e;
}

}  // namespace deca
