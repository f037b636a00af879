// Tokenized-data cache, batching by token budget and task mixing.
#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/data/batching.h"
#include "deca/data/encoded.h"
#include "deca/data/mixing.h"
#include "deca/tasks/task.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

// A synthetic split with the given (context, question, answer) lengths.
deca::EncodedSplit synthetic(size_t n, uint64_t seed) {
  deca::EncodedSplit e;
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < n; ++i) {
    for (int f = 0; f < 3; ++f) {
      const uint32_t len = 1 + static_cast<uint32_t>(rng() % (f == 0 ? 300 : f == 1 ? 20 : 40));
      e.spans.push_back({e.ids.size(), len});
      e.ids.insert(e.ids.end(), len, 5 + f);
    }
    e.source.push_back(static_cast<uint32_t>(i));
  }
  return e;
}

long padded_cost(const deca::EncodedSplit& d, const deca::BatchRows& b) {
  uint32_t c = 0, q = 0, a = 0;
  for (auto r : b)
    c = std::max(c, d.context_len(r)), q = std::max(q, d.question_len(r)), a = std::max(a, d.answer_len(r) + 1);
  return static_cast<long>(b.size()) * (c + q + a);
}

}  // namespace

TEST(Batching, EpochCoversEveryExampleOnceWithinBudget) {
  const auto data = synthetic(2000, 1);
  deca::BatchOptions opt;
  opt.max_tokens = 3000;
  opt.pool_batches = 10;
  const deca::TrainStream stream(data, opt, 123, 0);
  const auto batches = stream.epoch(0);
  std::vector<int> seen(data.size(), 0);
  for (const auto& b : batches) {
    ASSERT_FALSE(b.empty());
    for (auto r : b) ++seen[r];
    if (b.size() > 1) {
      EXPECT_LE(padded_cost(data, b), opt.max_tokens);
    }
  }
  for (int s : seen) ASSERT_EQ(s, 1);
  // Length bucketing: far less padding than random batches would have.
  long padded = 0, real = 0;
  for (const auto& b : batches) {
    padded += padded_cost(data, b);
    for (auto r : b) real += data.context_len(r) + data.question_len(r) + data.answer_len(r) + 1;
  }
  EXPECT_LT(static_cast<double>(padded) / static_cast<double>(real), 1.35);
}

TEST(Batching, DeterministicForASeedAndResumable) {
  const auto data = synthetic(500, 2);
  deca::BatchOptions opt;
  opt.max_tokens = 2000;
  const deca::TrainStream a(data, opt, 7, 3), b(data, opt, 7, 3), c(data, opt, 8, 3);
  EXPECT_EQ(a.epoch(4), b.epoch(4));
  EXPECT_NE(a.epoch(4), c.epoch(4));
  EXPECT_NE(a.epoch(4), a.epoch(5));
  // Reading 300 batches straight equals reading 100, then resuming from the saved position.
  deca::StreamPosition p1, p2;
  std::vector<deca::BatchRows> straight, resumed;
  for (int i = 0; i < 300; ++i) straight.push_back(a.next(p1));
  for (int i = 0; i < 100; ++i) resumed.push_back(b.next(p2));
  const deca::StreamPosition saved = p2;
  const deca::TrainStream fresh(data, opt, 7, 3);
  deca::StreamPosition p3 = saved;
  for (int i = 100; i < 300; ++i) resumed.push_back(fresh.next(p3));
  EXPECT_EQ(straight, resumed);
  EXPECT_GT(p1.epoch, 0u) << "the stream should have wrapped into a new epoch";
}

TEST(Batching, DecanlpSizeRuleAndOversizedExamples) {
  deca::EncodedSplit d;
  for (uint32_t len : {10u, 10u, 10u, 5000u, 10u}) {
    d.spans.push_back({d.ids.size(), len});
    d.ids.insert(d.ids.end(), len, 4);
    d.spans.push_back({d.ids.size(), 3});
    d.ids.insert(d.ids.end(), 3, 4);
    d.spans.push_back({d.ids.size(), 4});
    d.ids.insert(d.ids.end(), 4, 4);
    d.source.push_back(static_cast<uint32_t>(d.source.size()));
  }
  EXPECT_EQ(deca::example_cost(d, 0, "decanlp"), 20);  // max(10, 5 x 4)
  const auto batches = deca::cut_batches(d, {0, 1, 2, 3, 4}, 60, "decanlp");
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0], (deca::BatchRows{0, 1, 2}));
  EXPECT_EQ(batches[1], (deca::BatchRows{3}));  // over the budget alone
  EXPECT_EQ(batches[2], (deca::BatchRows{4}));
  const auto eval = deca::eval_batches(d, 60, "decanlp");
  std::set<uint32_t> all;
  for (const auto& b : eval) all.insert(b.begin(), b.end());
  EXPECT_EQ(all.size(), 5u);
  EXPECT_EQ(eval[0], (deca::BatchRows{3}));  // longest first
}

namespace {
deca::PhaseOptions phase(std::vector<std::string> tasks, std::string mixing, long steps = 0) {
  deca::PhaseOptions p;
  p.tasks = std::move(tasks);
  p.mixing = std::move(mixing);
  p.steps = steps;
  return p;
}

// Observed frequencies over `steps` steps agree with p within 5 standard deviations.
void expect_frequencies(const deca::TaskMixer& m, size_t ntasks, long first, long steps) {
  std::vector<long> count(ntasks, 0);
  for (long s = first; s < first + steps; ++s) ++count[m.at(s).task];
  const auto& p = m.probabilities(m.at(first).phase);
  for (size_t k = 0; k < ntasks; ++k) {
    const double expected = p[k] * static_cast<double>(steps);
    const double sd = std::sqrt(static_cast<double>(steps) * p[k] * (1 - p[k]));
    EXPECT_NEAR(static_cast<double>(count[k]), expected, 5 * sd + 1) << "task " << k;
  }
}
}  // namespace

TEST(Mixing, RoundRobinWithCounts) {
  auto ph = phase({"a", "b", "c"}, "round_robin");
  ph.counts = {2, 1, 3};
  const deca::TaskMixer m({ph}, {"a", "b", "c"}, {10, 10, 10}, 1);
  const std::vector<size_t> expected = {0, 0, 1, 2, 2, 2, 0, 0, 1, 2, 2, 2};
  for (size_t s = 0; s < expected.size(); ++s) EXPECT_EQ(m.at(static_cast<long>(s) + 1).task, expected[s]);
}

TEST(Mixing, ProportionalTemperatureAndWeightsMatchTheirRules) {
  const std::vector<std::string> tasks = {"a", "b", "c"};
  const std::vector<long> sizes = {1000, 9000, 90000};
  const deca::TaskMixer prop({phase(tasks, "proportional")}, tasks, sizes, 11);
  EXPECT_NEAR(prop.probabilities(0)[0], 0.01, 1e-12);
  expect_frequencies(prop, 3, 1, 200000);

  auto t = phase(tasks, "temperature");
  t.temperature = 2;
  t.size_cap = 40000;
  const deca::TaskMixer temp({t}, tasks, sizes, 12);
  const double a = std::sqrt(1000.0), b = std::sqrt(9000.0), c = std::sqrt(40000.0);
  EXPECT_NEAR(temp.probabilities(0)[2], c / (a + b + c), 1e-12);
  expect_frequencies(temp, 3, 1, 200000);

  auto w = phase(tasks, "weights");
  w.weights = {1, 0, 3};
  const deca::TaskMixer fixed({w}, tasks, sizes, 13);
  EXPECT_NEAR(fixed.probabilities(0)[2], 0.75, 1e-12);
  expect_frequencies(fixed, 3, 1, 200000);
  for (long s = 1; s < 10000; ++s) ASSERT_NE(fixed.at(s).task, 1u);
}

TEST(Mixing, CurriculumPhasesSwitchAtTheirStep) {
  const std::vector<std::string> tasks = {"squad", "sst", "schema"};
  const deca::TaskMixer m({phase({"squad"}, "round_robin", 100), phase(tasks, "proportional")}, tasks, {100, 100, 100},
                          5);
  for (long s = 1; s <= 100; ++s) {
    ASSERT_EQ(m.at(s).task, 0u);
    ASSERT_EQ(m.at(s).phase, 0u);
  }
  EXPECT_EQ(m.at(101).phase, 1u);
  expect_frequencies(m, 3, 101, 60000);
  const deca::TaskMixer again({phase({"squad"}, "round_robin", 100), phase(tasks, "proportional")}, tasks,
                              {100, 100, 100}, 5);
  for (long s = 1; s < 5000; ++s) ASSERT_EQ(m.at(s).task, again.at(s).task);
}

TEST(Mixing, RehearsalReplaysEarlierTasksAtItsShareEvenlySpaced) {
  // Phase 0: squad and sst; phase 1: schema, with a quarter of its steps replaying them.
  const std::vector<std::string> tasks = {"squad", "sst", "schema"};
  auto later = phase({"schema"}, "round_robin");
  later.rehearse = {"squad", "sst"};
  later.rehearsal = 0.25;
  const deca::TaskMixer m({phase({"squad", "sst"}, "round_robin", 10), later}, tasks, {100, 100, 100}, 5);
  std::vector<long> count(3, 0);
  long longest_gap = 0, gap = 0;
  for (long s = 11; s <= 410; ++s) {
    const auto pick = m.at(s);
    ASSERT_EQ(pick.phase, 1u);
    ++count[pick.task];
    gap = pick.task == 2 ? gap + 1 : 0;
    longest_gap = std::max(longest_gap, gap);
  }
  EXPECT_EQ(count[0], 50);  // 100 replays in 400 steps, alternating between the two tasks
  EXPECT_EQ(count[1], 50);
  EXPECT_EQ(count[2], 300);
  EXPECT_EQ(longest_gap, 3);  // one replay in every 4 steps
  // Weighted mixing of the phase's own tasks around the replays.
  auto weighted = phase({"sst", "schema"}, "weights");
  weighted.weights = {1, 1};
  weighted.rehearse = {"squad"};
  weighted.rehearsal = 0.1;
  const deca::TaskMixer w({weighted}, tasks, {100, 100, 100}, 6);
  long replays = 0;
  for (long s = 1; s <= 1000; ++s) replays += w.at(s).task == 0;
  EXPECT_EQ(replays, 100);
}

TEST(Mixing, RehearsalConfigIsChecked) {
  auto j = nlohmann::json::parse(R"({"curriculum": [{"tasks": ["sst"], "rehearse": ["squad"]}]})");
  EXPECT_THROW(deca::config_from_json(j), deca::ConfigError);  // no share
  j["curriculum"][0]["rehearsal"] = 1.0;
  EXPECT_THROW(deca::config_from_json(j), deca::ConfigError);  // not in (0, 1)
  j["curriculum"][0]["rehearsal"] = 0.2;
  const auto c = deca::config_from_json(j);
  EXPECT_EQ(c.all_tasks(), (std::vector<std::string>{"sst", "squad"}));  // the replayed tasks are trained too
  j["curriculum"][0]["rehearse"] = {"sst"};
  EXPECT_THROW(deca::config_from_json(j), deca::ConfigError);  // a task of the phase itself
}

class EncodedCache : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = deca::testing::unique_temp_path("deca-cache");
    root_ = deca::testing::source_dir() / "data" / "sample";
    std::vector<std::string> texts;
    for (const auto& ex : deca::find_task("squad", root_)->read(root_, deca::Split::Train)) {
      texts.push_back(ex.context);
      texts.push_back(ex.question);
    }
    deca::TokenizerOptions o;
    o.vocab_size = 400;
    deca::Tokenizer::train(texts, o, dir_ / "tok.model", 1);
    tok_ = deca::Tokenizer::load(dir_ / "tok.model");
  }
  static void TearDownTestSuite() {
    tok_.reset();
    fs::remove_all(dir_);
  }
  static inline fs::path dir_, root_;
  static inline std::shared_ptr<const deca::Tokenizer> tok_;
};

TEST_F(EncodedCache, HitMissStaleAndCorrupt) {
  const auto examples = deca::find_task("squad", root_)->read(root_, deca::Split::Validation);
  deca::EncodeOptions opt;
  opt.max_context_tokens = 30;
  bool hit = true;
  const auto first = deca::encode_cached(examples, *tok_, opt, dir_ / "cache", "squad.validation", &hit);
  EXPECT_FALSE(hit);
  EXPECT_EQ(first.size(), examples.size());
  EXPECT_GT(first.truncated_contexts, 0);
  for (size_t i = 0; i < first.size(); ++i)  // the limit counts words
    EXPECT_LE(tok_->count_words(std::vector<int32_t>(first.context(i), first.context(i) + first.context_len(i))), 30u);
  const auto second = deca::encode_cached(examples, *tok_, opt, dir_ / "cache", "squad.validation", &hit);
  EXPECT_TRUE(hit);
  EXPECT_EQ(second.ids, first.ids);
  // Other options: the cached file is stale and rebuilt.
  opt.max_context_tokens = 40;
  deca::encode_cached(examples, *tok_, opt, dir_ / "cache", "squad.validation", &hit);
  EXPECT_FALSE(hit);
  // A flipped byte: detected by the checksum, rebuilt.
  const fs::path file = dir_ / "cache" / "squad.validation.bin";
  std::string bytes = deca::read_file(file);
  bytes[bytes.size() / 2] ^= 0x5A;
  deca::write_file_atomic(file, bytes);
  const auto rebuilt = deca::encode_cached(examples, *tok_, opt, dir_ / "cache", "squad.validation", &hit);
  EXPECT_FALSE(hit);
  EXPECT_EQ(rebuilt.ids, deca::encode(examples, *tok_, opt).ids);
  // A truncated file: rebuilt too.
  deca::write_file_atomic(file, bytes.substr(0, 100));
  deca::encode_cached(examples, *tok_, opt, dir_ / "cache", "squad.validation", &hit);
  EXPECT_FALSE(hit);
  deca::encode_cached(examples, *tok_, opt, dir_ / "cache", "squad.validation", &hit);
  EXPECT_TRUE(hit);
}

TEST_F(EncodedCache, TrainingFilterDropsLongAnswers) {
  const auto examples = deca::find_task("cnn_dailymail", root_)->read(root_, deca::Split::Train);
  deca::EncodeOptions opt;
  opt.training = true;
  opt.max_answer_tokens = 5;
  const auto e = deca::encode(examples, *tok_, opt);
  EXPECT_EQ(e.dropped, static_cast<long>(examples.size()));
  opt.training = false;
  EXPECT_EQ(deca::encode(examples, *tok_, opt).size(), examples.size());
}
