// All of deca's options in one place: typed structs with a default and a help
// text per field (each key's one description, which --help-config prints),
// filled from JSON with validation (unknown keys and wrong types are errors
// naming the key's path), overridable with --set a.b=value, and printable as
// the resolved JSON that can be fed back.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace deca {

struct DataOptions {
  std::string data_root = "data/sample";
  bool skip_bad_records = false;
  std::string cache_dir;
  long max_context_tokens = 400;
  long max_question_tokens = 100;
  long max_answer_tokens = 50;
  long subsample = 0;
  template <class V>
  void fields(V& v) {
    v("data_root", data_root, "folder with the tasks' original files");
    v("skip_bad_records", skip_bad_records, "skip and count malformed records instead of failing");
    v("cache_dir", cache_dir, "tokenized-data cache folder (empty: <output>/cache)");
    v("max_context_tokens", max_context_tokens,
      "words (revtok tokens): longer training contexts drop the example (CNN/DailyMail: truncated), longer evaluation "
      "contexts are truncated");
    v("max_question_tokens", max_question_tokens, "questions are truncated to this many words");
    v("max_answer_tokens", max_answer_tokens, "training examples with answers of more words are dropped");
    v("subsample", subsample, "at most this many examples per split, the first ones (0: all)");
  }
};

struct TokenizerOptions {
  std::string model;
  long vocab_size = 16000;
  std::string model_type = "bpe";
  std::string scheme = "words";
  bool lowercase = true;
  double character_coverage = 0.9995;
  long max_sentences = 1000000;
  template <class V>
  void fields(V& v) {
    v("model", model, "existing SentencePiece model file; empty: train one on the training splits");
    v("vocab_size", vocab_size, "vocabulary size (pieces, byte fallback and specials included)");
    v("model_type", model_type,
      "bpe or unigram (scheme words: bpe, whose pieces are about 1.1 per word; unigram about 1.9)");
    v("scheme", scheme,
      "words (revtok words, each segmented into pieces on its own: copyable) or pieces (SentencePiece on raw text)");
    v("lowercase", lowercase, "lowercase every text before tokenizing");
    v("character_coverage", character_coverage, "character coverage of the pieces");
    v("max_sentences", max_sentences, "at most this many training sentences");
  }
};

struct BatchOptions {
  long max_tokens = 9000;
  std::string size_rule = "padded";
  long pool_batches = 100;
  long eval_max_tokens = 20000;
  template <class V>
  void fields(V& v) {
    v("max_tokens", max_tokens,
      "token budget per training batch; with several processes, of the global batch they share");
    v("size_rule", size_rule,
      "padded (examples x longest padded length) or decanlp (examples x max(context, 5 x answer))");
    v("pool_batches", pool_batches, "batches per length-sorting pool");
    v("eval_max_tokens", eval_max_tokens,
      "token budget of the validation or prediction batches decoded at once (shared by the CPU threads' batches)");
  }
};

// One phase of the curriculum: which tasks and how they are mixed.
struct PhaseOptions {
  std::vector<std::string> tasks;
  std::string mixing = "round_robin";
  std::vector<long> counts;
  std::vector<double> weights;
  double temperature = 2.0;
  long size_cap = 0;
  long steps = 0;
  // Rehearsal (continual learning): this share of the phase's steps replays
  // these earlier tasks, round robin, evenly spaced; the rest trains `tasks`.
  std::vector<std::string> rehearse;
  double rehearsal = 0;
  template <class V>
  void fields(V& v) {
    v("tasks", tasks, "task names, in round-robin order");
    v("mixing", mixing, "round_robin, proportional, temperature or weights");
    v("counts", counts, "round_robin: consecutive batches per task and round");
    v("weights", weights, "weights: sampling weight per task");
    v("temperature", temperature, "temperature: p proportional to size^(1/T)");
    v("size_cap", size_cap, "proportional/temperature: sizes capped at this many examples (0: no cap)");
    v("steps", steps, "steps in this phase; 0 = the rest of training");
    v("rehearse", rehearse, "earlier tasks replayed during this phase (continual learning), round robin");
    v("rehearsal", rehearsal, "share of the phase's steps that replay the rehearse tasks, in (0, 1)");
  }
};

struct ModelOptions {
  std::string type = "mqan";
  long dimension = 200;
  long embedding_dim = 200;
  double embedding_init_std = 1.0;
  std::string embeddings_file;
  bool freeze_embeddings = false;
  std::vector<std::string> freeze;
  long rnn_layers = 1;
  long transformer_layers = 2;
  long transformer_hidden = 150;
  long transformer_heads = 3;
  double dropout = 0.2;
  // decaNLP's fixed dropouts: on MQAN's coattention, and in its feed-forward
  // layers of default dropout (the transformer layers' feed-forward blocks,
  // the pointer switches). 0 with dropout 0 for runs without randomness.
  double coattention_dropout = 0.3;
  double feedforward_dropout = 0.2;
  // The coattention's question projection starts as the identity
  // ("identity"): the affinity of a context and a question word then starts as
  // the similarity of their encodings, so a context word that matches the
  // question stands out from the first step; "pytorch" draws it as decaNLP
  // does (docs/learning.md measures both).
  std::string coattention_init = "identity";
  long max_output_length = 100;
  template <class V>
  void fields(V& v) {
    v("type", type, "mqan or s2s");
    v("dimension", dimension, "model dimension d");
    v("embedding_dim", embedding_dim, "width of the trainable embeddings");
    v("embedding_init_std", embedding_init_std,
      "standard deviation of the embedding table's initial N(0, std^2) draw "
      "(1: PyTorch's default)");
    v("embeddings_file", embeddings_file,
      "GloVe or word2vec/fastText text vectors (width embedding_dim) for the units they cover");
    v("freeze_embeddings", freeze_embeddings,
      "do not train the embedding table (decaNLP freezes its pretrained vectors)");
    v("freeze", freeze,
      "parts not trained: embeddings, encoder, decoder, output, or a top-level module by name (e.g. coattention_proj)");
    v("rnn_layers", rnn_layers, "LSTM layers");
    v("transformer_layers", transformer_layers, "self-attention layers");
    v("transformer_hidden", transformer_hidden, "feed-forward width of the transformer layers");
    v("transformer_heads", transformer_heads, "attention heads");
    v("dropout", dropout, "dropout ratio");
    v("coattention_dropout", coattention_dropout, "dropout on MQAN's coattention (decaNLP fixes it at 0.3)");
    v("feedforward_dropout", feedforward_dropout,
      "dropout in the transformer feed-forward blocks and the pointer switches (decaNLP fixes it at 0.2)");
    v("coattention_init", coattention_init,
      "the coattention's question projection at the start: identity (weight I, bias 0: affinities "
      "start as similarities; learns SQuAD faster) or pytorch (drawn uniformly, decaNLP's)");
    v("max_output_length", max_output_length, "answer words at most when decoding (revtok tokens, decaNLP's unit)");
  }
};

// A learning rate for one part of the model: the schedule's rate times `scale`.
struct PartLearningRate {
  std::string part;
  double scale = 1;
  template <class V>
  void fields(V& v) {
    v("part", part, "embeddings, encoder, decoder, output, or a top-level module by name");
    v("scale", scale, "multiplies the schedule's learning rate for this part's parameters");
  }
};

struct TrainOptions {
  long steps = 1000;
  std::string lr_schedule = "transformer";
  double lr = 0.001;
  long warmup = 800;
  double beta1 = 0.9, beta2 = 0.98, eps = 1e-9;
  double grad_clip = 1.0;
  long seed = 123;
  long log_every = 100;
  long val_every = 1000;
  long save_every = 1000;
  long keep_last = 3;
  std::string best_metric = "decascore";
  long patience = 0;
  long accumulate = 1;
  double max_time = 0;
  std::vector<std::string> val_tasks;
  long val_max_examples = 0;
  bool save_val_predictions = false;
  bool tensorboard = true;
  std::string device = "cpu";
  long threads = 0;
  std::string precision = "fp32";
  std::string optimizer_state = "fp32";
  long max_bad_steps = 20;
  std::vector<PartLearningRate> lr_scales;
  template <class V>
  void fields(V& v) {
    v("steps", steps, "total optimizer steps");
    v("lr_schedule", lr_schedule,
      "transformer (d^-0.5 min(i^-0.5, i warmup^-1.5)), constant or linear (warm-up then decay to 0)");
    v("lr", lr, "learning rate of the constant and linear schedules");
    v("warmup", warmup, "warm-up steps");
    v("beta1", beta1, "Adam beta1");
    v("beta2", beta2, "Adam beta2");
    v("eps", eps, "Adam epsilon");
    v("grad_clip", grad_clip, "clip the gradients' total L2 norm to this (0: off)");
    v("seed", seed, "random seed");
    v("log_every", log_every, "steps between log lines");
    v("val_every", val_every, "steps between validations (0: never)");
    v("save_every", save_every, "steps between checkpoints");
    v("keep_last", keep_last, "checkpoints kept besides the best");
    v("best_metric", best_metric, "decascore or <task>.<metric>, higher is better");
    v("accumulate", accumulate,
      "micro-batches each step's batch is split into, their gradients summed before the update: the update of the "
      "whole batch (as with several processes) in about 1/accumulate of the activation memory");
    v("patience", patience,
      "early stopping: the run ends (exit code 0) once best_metric has not improved for this many validations "
      "(0: never)");
    v("max_time", max_time,
      "seconds a deca-train process may run (0: no limit): before a step would pass it, the run saves a checkpoint "
      "and exits 0, to be continued with --resume (a cluster job's time limit; deca-train --max-time 90m)");
    v("val_tasks", val_tasks, "tasks to validate on (default: the curriculum's tasks)");
    v("val_max_examples", val_max_examples, "validation examples per task at most (0: all)");
    v("save_val_predictions", save_val_predictions,
      "write each validation's answers to <run>/validation/step-N/<task>.jsonl "
      "({\"id\", \"answer\"}, as deca-eval --output writes them)");
    v("tensorboard", tensorboard,
      "write TensorBoard event files to <run>/tensorboard as metrics.jsonl is written: per-task losses, learning "
      "rate, throughput, every validation metric and the decaScore (tensorboard --logdir runs)");
    v("device", device, "cpu, cuda or cuda:N");
    v("threads", threads,
      "CPU threads (0: OMP_NUM_THREADS, else the CPUs of the affinity mask and container quota, shared by the run's "
      "processes on a machine)");
    v("precision", precision,
      "fp32; tf32 (fp32 with TF32 matrix products on CUDA, as fp32 on the CPU); bf16 (the forward pass "
      "autocast to bfloat16 on CUDA and the CPU, with fp32 weights, gradients and optimizer state)");
    v("optimizer_state", optimizer_state,
      "Adam's moments in fp32, or in bf16 (half the optimizer's memory; each step computes in fp32 "
      "and rounds stochastically, so that the moments stay unbiased)");
    v("max_bad_steps", max_bad_steps, "consecutive NaN/inf losses that stop the run");
    v("lr_scales", lr_scales,
      "per model part, a multiplier of the learning rate: [{\"part\": \"encoder\", \"scale\": 0.1}]");
  }
};

struct Config {
  std::string output = "runs/default";
  DataOptions data;
  TokenizerOptions tokenizer;
  BatchOptions batching;
  std::vector<PhaseOptions> curriculum;
  ModelOptions model;
  TrainOptions training;
  template <class V>
  void fields(V& v) {
    v("output", output, "the run folder");
    v("data", data, "");
    v("tokenizer", tokenizer, "");
    v("batching", batching, "");
    v("curriculum", curriculum, "phases of training, each with its tasks and mixing rule");
    v("model", model, "");
    v("training", training, "");
  }

  // Every task of every phase, in order of first appearance.
  std::vector<std::string> all_tasks() const;
};

// Builds a Config from JSON: unknown keys and wrong types are ConfigErrors
// naming the key's path (e.g. "training.steps"); semantic checks follow.
Config config_from_json(const nlohmann::json& j);
nlohmann::ordered_json config_to_json(const Config& c);
// Parses JSON text; comments (// and /* */) are allowed, a key that repeats
// within one object is a ConfigError.
nlohmann::json parse_json_strict(std::string_view text);
// Parses a JSON config's text; errors are ConfigErrors naming `source`.
Config config_from_text(std::string_view text, const std::string& source);
// Reads a JSON config file; errors name the file. A top-level "base": "file"
// (relative to this file) inherits that config: this file's keys override the
// base's, objects merging key by key, lists and values replaced whole, null
// resetting a key to its default; bases may have bases.
Config load_config(const std::filesystem::path& path);
// The keys a config file sets, its bases' included, as dotted paths of its
// values ("model.dimension"; a list is one value): what was chosen rather
// than left to the defaults.
std::vector<std::string> config_file_keys(const std::filesystem::path& path);
// Applies "a.b.c=value" overrides (value parsed as JSON, else taken as a string)
// to a resolved config. Lists are indexed by number: curriculum.0.steps=10.
Config apply_overrides(const Config& c, const std::vector<std::string>& assignments);
// Every key with its type, default and meaning, one per line ("training.lr
// (number, default 0.001)  learning rate of ..."), for --help-config.
std::string config_help();
// Semantic checks (known mixing rules, matching list lengths, positive sizes...).
void validate(const Config& c);

}  // namespace deca
