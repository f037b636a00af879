#include "deca/core/config.h"

#include <cmath>
#include <fstream>
#include <functional>
#include <set>
#include <type_traits>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/core/suggest.h"

namespace deca {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

template <class T, class = void>
struct is_struct : std::false_type {};
template <class T>
struct is_struct<T, std::void_t<decltype(&T::template fields<int>)>> : std::true_type {};

template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};

std::string join_path(const std::string& base, const std::string& key) { return base.empty() ? key : base + "." + key; }

const char* type_name(const json& j) { return j.type_name(); }

template <class T>
void read_value(const json& j, T& out, const std::string& path);

// Reads an object's fields; unknown keys are errors.
template <class T>
void read_struct(const json& j, T& obj, const std::string& path) {
  if (!j.is_object())
    throw ConfigError("config key \"" + (path.empty() ? "(top level)" : path) + "\": expected an object, got " +
                      type_name(j));
  std::set<std::string> known;
  auto visitor = [&](const char* name, auto& field, const char*) {
    known.insert(name);
    auto it = j.find(name);
    if (it != j.end()) read_value(*it, field, join_path(path, name));
  };
  obj.fields(visitor);
  for (const auto& [key, value] : j.items()) {
    if (!known.count(key)) {
      std::string names;
      for (const auto& k : known) names += (names.empty() ? "" : ", ") + k;
      const std::string near = nearest_name(key, {known.begin(), known.end()});
      throw ConfigError("unknown config key \"" + join_path(path, key) + "\"" +
                        (near.empty() ? "" : ": did you mean \"" + join_path(path, near) + "\"?") +
                        " (known keys here: " + names + ")");
    }
  }
}

template <class T>
void read_value(const json& j, T& out, const std::string& path) {
  auto wrong = [&](const char* expected) {
    return ConfigError("config key \"" + path + "\": expected " + expected + ", got " + type_name(j) + " " + j.dump());
  };
  if constexpr (std::is_same_v<T, bool>) {
    if (!j.is_boolean()) throw wrong("true or false");
    out = j.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (!j.is_number_integer()) throw wrong("an integer");
    out = j.get<T>();
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!j.is_number() || !std::isfinite(j.get<double>())) throw wrong("a finite number");
    out = j.get<T>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!j.is_string()) throw wrong("a string");
    out = j.get<std::string>();
  } else if constexpr (is_vector<T>::value) {
    if (!j.is_array()) throw wrong("a list");
    out.clear();
    out.resize(j.size());
    for (size_t i = 0; i < j.size(); ++i) read_value(j[i], out[i], path + "." + std::to_string(i));
  } else {
    static_assert(is_struct<T>::value, "unsupported config field type");
    read_struct(j, out, path);
  }
}

template <class T>
ojson write_value(const T& v) {
  if constexpr (is_vector<T>::value) {
    ojson a = ojson::array();
    for (const auto& x : v) a.push_back(write_value(x));
    return a;
  } else if constexpr (is_struct<T>::value) {
    ojson o = ojson::object();
    auto visitor = [&](const char* name, const auto& field, const char*) { o[name] = write_value(field); };
    const_cast<T&>(v).fields(visitor);
    return o;
  } else {
    return ojson(v);
  }
}

template <class T>
struct is_struct_list : std::false_type {};
template <class E>
struct is_struct_list<std::vector<E>> : is_struct<E> {};

template <class T>
const char* kind_of() {
  if constexpr (std::is_same_v<T, bool>)
    return "bool";
  else if constexpr (std::is_integral_v<T>)
    return "integer";
  else if constexpr (std::is_floating_point_v<T>)
    return "number";
  else if constexpr (std::is_same_v<T, std::string>)
    return "string";
  else if constexpr (is_vector<T>::value) {
    using E = typename T::value_type;
    if constexpr (is_struct<E>::value)
      return "list of objects";
    else if constexpr (std::is_same_v<E, std::string>)
      return "list of strings";
    else if constexpr (std::is_integral_v<E>)
      return "list of integers";
    else
      return "list of numbers";
  } else
    return "object";
}

// One line per key: path, type, default, meaning; objects and lists of
// objects are described key by key (a list's entries as path.N.key).
template <class T>
void describe(const T& obj, const std::string& path, std::string& out) {
  auto visitor = [&](const char* name, const auto& field, const char* help) {
    using F = std::decay_t<decltype(field)>;
    const std::string key = join_path(path, name);
    if constexpr (is_struct<F>::value) {
      describe(field, key, out);
    } else if constexpr (is_struct_list<F>::value) {
      out += key + "  (" + kind_of<F>() + ")  " + help + "\n";
      describe(typename F::value_type{}, key + ".N", out);
    } else {
      out += key + "  (" + kind_of<F>() + ", default " + write_value(field).dump() + ")  " + help + "\n";
    }
  };
  const_cast<T&>(obj).fields(visitor);
}

}  // namespace

std::string config_help() {
  std::string out;
  describe(Config{}, "", out);
  return out;
}

std::vector<std::string> Config::all_tasks() const {
  std::vector<std::string> out;
  for (const auto& p : curriculum) {
    for (const auto& t : p.tasks)
      if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
    for (const auto& t : p.rehearse)
      if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
  }
  return out;
}

void validate(const Config& c) {
  auto fail = [](const std::string& key, const std::string& what) {
    throw ConfigError("config key \"" + key + "\": " + what);
  };
  if (c.curriculum.empty()) fail("curriculum", "needs at least one phase with its tasks");
  for (size_t i = 0; i < c.curriculum.size(); ++i) {
    const auto& p = c.curriculum[i];
    const std::string at = "curriculum." + std::to_string(i);
    if (p.tasks.empty()) fail(at + ".tasks", "needs at least one task");
    static const std::set<std::string> kMixing = {"round_robin", "proportional", "temperature", "weights"};
    if (!kMixing.count(p.mixing))
      fail(at + ".mixing", "\"" + p.mixing + "\" is not one of round_robin, proportional, temperature, weights");
    if (!p.counts.empty() && p.counts.size() != p.tasks.size()) fail(at + ".counts", "needs one count per task");
    for (long n : p.counts)
      if (n < 1) fail(at + ".counts", "counts must be >= 1");
    if (p.mixing == "weights" && p.weights.size() != p.tasks.size()) fail(at + ".weights", "needs one weight per task");
    for (double w : p.weights)
      if (!(w >= 0)) fail(at + ".weights", "weights must be >= 0");
    if (p.mixing == "temperature" && !(p.temperature > 0)) fail(at + ".temperature", "must be > 0");
    if (p.steps < 0) fail(at + ".steps", "must be >= 0");
    if (p.steps == 0 && i + 1 != c.curriculum.size())
      fail(at + ".steps", "only the last phase may run until the end (steps 0)");
    if (p.rehearse.empty() != (p.rehearsal == 0))
      fail(at + (p.rehearse.empty() ? ".rehearse" : ".rehearsal"),
           "rehearse (the tasks replayed) and rehearsal (their share) go together");
    if (!p.rehearse.empty() && !(p.rehearsal > 0 && p.rehearsal < 1)) fail(at + ".rehearsal", "must be in (0, 1)");
    for (const auto& t : p.rehearse)
      if (std::find(p.tasks.begin(), p.tasks.end(), t) != p.tasks.end())
        fail(at + ".rehearse", "task " + t + " is also one of the phase's tasks");
  }
  for (size_t i = 0; i < c.training.lr_scales.size(); ++i) {
    const auto& s = c.training.lr_scales[i];
    const std::string at = "training.lr_scales." + std::to_string(i);
    if (s.part.empty()) fail(at + ".part", "names no part");
    if (!(s.scale > 0)) fail(at + ".scale", "must be > 0 (to keep a part fixed, list it in model.freeze)");
  }
  auto at_least = [&](const std::string& key, long value, long minimum) {
    if (value < minimum) fail(key, "must be >= " + std::to_string(minimum) + ", got " + std::to_string(value));
  };
  at_least("data.max_context_tokens", c.data.max_context_tokens, 1);
  at_least("data.max_question_tokens", c.data.max_question_tokens, 1);
  at_least("data.max_answer_tokens", c.data.max_answer_tokens, 1);
  at_least("data.subsample", c.data.subsample, 0);
  at_least("tokenizer.max_sentences", c.tokenizer.max_sentences, 1);
  if (!(c.tokenizer.character_coverage > 0 && c.tokenizer.character_coverage <= 1))
    fail("tokenizer.character_coverage", "must be in (0, 1]");
  if (c.batching.max_tokens <= 0) fail("batching.max_tokens", "must be > 0");
  if (c.batching.eval_max_tokens <= 0) fail("batching.eval_max_tokens", "must be > 0");
  if (c.batching.size_rule != "padded" && c.batching.size_rule != "decanlp")
    fail("batching.size_rule", "must be padded or decanlp");
  if (c.batching.pool_batches < 1) fail("batching.pool_batches", "must be >= 1");
  if (c.tokenizer.model_type != "unigram" && c.tokenizer.model_type != "bpe")
    fail("tokenizer.model_type", "must be unigram or bpe");
  if (c.tokenizer.scheme != "words" && c.tokenizer.scheme != "pieces")
    fail("tokenizer.scheme", "must be words or pieces");
  if (c.tokenizer.vocab_size < 300) fail("tokenizer.vocab_size", "must be >= 300 (256 byte pieces + specials + text)");
  if (c.model.type != "mqan" && c.model.type != "s2s") fail("model.type", "must be mqan or s2s");
  if (c.model.dimension <= 0 || c.model.dimension % 2) fail("model.dimension", "must be a positive even number");
  if (c.model.transformer_heads < 1 || c.model.transformer_heads > c.model.dimension)
    fail("model.transformer_heads", "must be between 1 and the dimension");
  if (!(c.model.dropout >= 0 && c.model.dropout < 1)) fail("model.dropout", "must be in [0, 1)");
  if (!(c.model.coattention_dropout >= 0 && c.model.coattention_dropout < 1))
    fail("model.coattention_dropout", "must be in [0, 1)");
  if (!(c.model.feedforward_dropout >= 0 && c.model.feedforward_dropout < 1))
    fail("model.feedforward_dropout", "must be in [0, 1)");
  at_least("model.embedding_dim", c.model.embedding_dim, 1);
  if (!(c.model.embedding_init_std > 0)) fail("model.embedding_init_std", "must be > 0");
  if (c.model.coattention_init != "pytorch" && c.model.coattention_init != "identity")
    fail("model.coattention_init", "must be pytorch or identity");
  at_least("model.rnn_layers", c.model.rnn_layers, 1);
  at_least("model.transformer_layers", c.model.transformer_layers, 1);
  at_least("model.transformer_hidden", c.model.transformer_hidden, 1);
  at_least("model.max_output_length", c.model.max_output_length, 1);
  at_least("training.steps", c.training.steps, 0);
  const auto& t = c.training;
  if (!(t.lr > 0)) fail("training.lr", "must be > 0");
  at_least("training.warmup", t.warmup, 0);
  if (t.lr_schedule == "transformer" && t.warmup < 1)
    fail("training.warmup", "must be >= 1 with the transformer schedule");
  if (!(t.beta1 >= 0 && t.beta1 < 1)) fail("training.beta1", "must be in [0, 1)");
  if (!(t.beta2 >= 0 && t.beta2 < 1)) fail("training.beta2", "must be in [0, 1)");
  if (!(t.eps > 0)) fail("training.eps", "must be > 0");
  if (!(t.grad_clip >= 0)) fail("training.grad_clip", "must be >= 0 (0: off)");
  at_least("training.val_every", t.val_every, 0);
  at_least("training.val_max_examples", t.val_max_examples, 0);
  at_least("training.threads", t.threads, 0);
  at_least("training.max_bad_steps", t.max_bad_steps, 1);
  at_least("training.accumulate", t.accumulate, 1);
  at_least("training.patience", t.patience, 0);
  if (t.patience > 0 && t.val_every == 0)
    fail("training.patience", "needs validations (training.val_every > 0) to count");
  if (!(t.max_time >= 0 && std::isfinite(t.max_time))) fail("training.max_time", "must be seconds >= 0 (0: no limit)");
  static const std::set<std::string> kSchedules = {"transformer", "constant", "linear"};
  if (!kSchedules.count(c.training.lr_schedule))
    fail("training.lr_schedule", "must be transformer, constant or linear");
  static const std::set<std::string> kPrecisions = {"fp32", "tf32", "bf16"};
  if (!kPrecisions.count(c.training.precision)) fail("training.precision", "must be fp32, tf32 or bf16");
  if (t.optimizer_state != "fp32" && t.optimizer_state != "bf16")
    fail("training.optimizer_state", "must be fp32 or bf16");
  at_least("training.log_every", t.log_every, 1);
  at_least("training.save_every", t.save_every, 1);
  at_least("training.keep_last", t.keep_last, 1);
  const std::string& d = c.training.device;
  if (d != "cpu" && d != "cuda" && d.rfind("cuda:", 0) != 0) fail("training.device", "must be cpu, cuda or cuda:N");
}

Config config_from_json(const nlohmann::json& j) {
  Config c;
  read_struct(j, c, "");
  validate(c);
  return c;
}

nlohmann::ordered_json config_to_json(const Config& c) { return write_value(c); }

json parse_json_strict(std::string_view text) {
  // The keys seen in each open object, and the key path to it: a repeated key
  // would otherwise silently override the first.
  std::vector<std::pair<std::set<std::string>, std::string>> open;
  std::string last_key;
  auto cb = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        open.emplace_back(std::set<std::string>{}, open.empty() ? "" : join_path(open.back().second, last_key));
        break;
      case json::parse_event_t::object_end:
        open.pop_back();
        break;
      case json::parse_event_t::key:
        last_key = parsed.get<std::string>();
        if (!open.back().first.insert(last_key).second)
          throw ConfigError("duplicate key \"" + join_path(open.back().second, last_key) + "\"");
        break;
      default:
        break;
    }
    return true;
  };
  return json::parse(text, cb, /*allow_exceptions=*/true, /*ignore_comments=*/true);
}

namespace {

json parse_config_text(std::string_view text, const std::string& source) {
  try {
    return parse_json_strict(text);
  } catch (const json::exception& e) {
    throw ConfigError(source + ": invalid JSON: " + e.what());
  } catch (const ConfigError& e) {
    throw ConfigError(source + ": " + e.what());
  }
}

Config config_from_parsed(const json& j, const std::string& source) {
  try {
    return config_from_json(j);
  } catch (const ConfigError& e) {
    throw ConfigError(source + ": " + e.what());
  }
}

// A config file with the chain of "base" files below it, merged: each file's
// keys override its base's, objects key by key, anything else (lists
// included) whole; null resets a key to its default (JSON merge patch,
// RFC 7386). `chain` gets the files read, the given one first.
json read_config_chain(const std::filesystem::path& path, std::vector<std::filesystem::path>& chain) {
  namespace fs = std::filesystem;
  for (const auto& seen : chain)
    if (fs::weakly_canonical(seen) == fs::weakly_canonical(path))
      throw ConfigError(chain.back().string() + ": \"base\" " + path.string() + " is already in the chain (" +
                        chain.front().string() + " ... " + chain.back().string() + "): a cycle");
  chain.push_back(path);
  json j = parse_config_text(read_file(path), path.string());
  if (!j.is_object() || !j.contains("base")) return j;
  const json base = j["base"];
  if (!base.is_string() || base.get<std::string>().empty())
    throw ConfigError(path.string() + ": \"base\" must be the file name of the config it extends (relative to " +
                      "this file), got " + base.dump());
  j.erase("base");
  const fs::path base_path = path.parent_path() / base.get<std::string>();
  if (!fs::is_regular_file(base_path))
    throw ConfigError(path.string() + ": its \"base\" " + base_path.string() + " is not a file");
  json merged = read_config_chain(base_path, chain);
  merged.merge_patch(j);
  return merged;
}

}  // namespace

Config config_from_text(std::string_view text, const std::string& source) {
  return config_from_parsed(parse_config_text(text, source), source);
}

Config load_config(const std::filesystem::path& path) {
  require_file(path, "");
  std::vector<std::filesystem::path> chain;
  const json j = read_config_chain(path, chain);
  std::string source = path.string();
  for (size_t i = 1; i < chain.size(); ++i) source += (i == 1 ? " (based on " : ", on ") + chain[i].string();
  if (chain.size() > 1) source += ")";
  return config_from_parsed(j, source);
}

std::vector<std::string> config_file_keys(const std::filesystem::path& path) {
  require_file(path, "");
  std::vector<std::filesystem::path> chain;
  std::vector<std::string> keys;
  const std::function<void(const json&, const std::string&)> walk = [&](const json& j, const std::string& at) {
    if (!j.is_object()) {
      keys.push_back(at);
      return;
    }
    for (const auto& [k, v] : j.items()) walk(v, join_path(at, k));
  };
  walk(read_config_chain(path, chain), "");
  return keys;
}

Config apply_overrides(const Config& c, const std::vector<std::string>& assignments) {
  json j = json::parse(config_to_json(c).dump());
  for (const auto& a : assignments) {
    const size_t eq = a.find('=');
    if (eq == std::string::npos || eq == 0) throw ConfigError("--set expects key=value, got \"" + a + "\"");
    const std::string key = a.substr(0, eq), raw = a.substr(eq + 1);
    json value;
    try {
      value = json::parse(raw);
    } catch (const json::out_of_range&) {
      throw ConfigError("--set " + a + ": " + raw + " is out of range");
    } catch (const json::parse_error&) {
      value = raw;  // a bare string
    }
    json* node = &j;
    size_t pos = 0;
    while (true) {
      const size_t dot = key.find('.', pos);
      const std::string part = key.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
      const bool last = dot == std::string::npos;
      if (node->is_array()) {
        char* end = nullptr;
        const unsigned long idx = std::strtoul(part.c_str(), &end, 10);
        if (part.empty() || *end || idx > node->size())
          throw ConfigError("--set " + key + ": \"" + part + "\" is not an index of a list of " +
                            std::to_string(node->size()));
        if (idx == node->size()) node->push_back(json::object());
        node = &(*node)[idx];
      } else if (node->is_object()) {
        if (!last && !node->contains(part)) {
          std::vector<std::string> here;
          for (const auto& [k, v] : node->items()) here.push_back(k);
          throw ConfigError("--set " + key + ": unknown config key \"" + key.substr(0, dot) + "\"" +
                            did_you_mean(part, here));
        }
        node = &(*node)[part];
      } else {
        throw ConfigError("--set " + key + ": \"" + key.substr(0, pos - 1) + "\" is not an object or a list");
      }
      if (last) break;
      pos = dot + 1;
    }
    // A list option given as a bare comma-separated string: --set curriculum.0.tasks=squad,sst
    if (node->is_array() && value.is_string()) {
      json list = json::array();
      std::string s = value.get<std::string>();
      size_t p = 0;
      while (p <= s.size()) {
        size_t comma = s.find(',', p);
        list.push_back(s.substr(p, comma == std::string::npos ? std::string::npos : comma - p));
        if (comma == std::string::npos) break;
        p = comma + 1;
      }
      value = list;
    }
    // Numbers given to string options stay strings ("--set output=123").
    if (node->is_string() && !value.is_string()) value = raw;
    *node = value;
  }
  return config_from_json(j);
}

}  // namespace deca
