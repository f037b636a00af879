#include "deca/data/batching.h"

#include <algorithm>
#include <numeric>

namespace deca {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

double uniform01(uint64_t key) { return static_cast<double>(splitmix64(key) >> 11) * (1.0 / 9007199254740992.0); }

namespace {
// Fisher-Yates with splitmix64: the same permutation on every platform.
template <class T>
void shuffle(std::vector<T>& v, uint64_t key) {
  for (size_t i = v.size(); i > 1; --i) {
    key = splitmix64(key);
    std::swap(v[i - 1], v[key % i]);
  }
}
}  // namespace

long example_cost(const EncodedSplit& data, uint32_t r, const std::string& rule) {
  if (rule == "decanlp") return std::max<long>(data.context_len(r), 5L * data.answer_len(r));
  return static_cast<long>(data.context_len(r) + data.question_len(r) + data.answer_len(r)) + 2;
}

std::vector<BatchRows> cut_batches(const EncodedSplit& data, const std::vector<uint32_t>& order, long max_tokens,
                                   const std::string& rule) {
  // The padded rule pads each of the three fields separately, so track their maxima.
  const bool decanlp = rule == "decanlp";
  std::vector<BatchRows> out;
  BatchRows cur;
  long mc = 0, mq = 0, ma = 0, md = 0;
  for (uint32_t r : order) {
    long nc = std::max<long>(mc, data.context_len(r)), nq = std::max<long>(mq, data.question_len(r)),
         na = std::max<long>(ma, data.answer_len(r) + 1);
    long nd = std::max<long>(md, std::max<long>(data.context_len(r), 5L * data.answer_len(r)));
    long cost = static_cast<long>(cur.size() + 1) * (decanlp ? nd : nc + nq + na);
    if (!cur.empty() && cost > max_tokens) {
      out.push_back(std::move(cur));
      cur.clear();
      nc = data.context_len(r), nq = data.question_len(r), na = data.answer_len(r) + 1;
      nd = std::max<long>(data.context_len(r), 5L * data.answer_len(r));
    }
    cur.push_back(r);
    mc = nc, mq = nq, ma = na, md = nd;
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::vector<BatchRows> eval_batches(const EncodedSplit& data, long max_tokens, const std::string& rule) {
  std::vector<uint32_t> order(data.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const auto la = data.context_len(a) + data.question_len(a), lb = data.context_len(b) + data.question_len(b);
    return la > lb;
  });
  return cut_batches(data, order, max_tokens, rule);
}

TrainStream::TrainStream(const EncodedSplit& data, const BatchOptions& options, uint64_t seed, uint64_t task_salt)
    : data_(data), options_(options), seed_(seed), salt_(task_salt) {}

std::vector<BatchRows> TrainStream::epoch(uint64_t e) const {
  std::vector<uint32_t> order(data_.size());
  std::iota(order.begin(), order.end(), 0u);
  const uint64_t key = splitmix64(seed_ ^ splitmix64(salt_ + 0x51ED27ull) ^ splitmix64(e + 0xE90C4ull));
  shuffle(order, key);
  const long pool_budget = options_.pool_batches * options_.max_tokens;
  std::vector<BatchRows> batches;
  size_t begin = 0;
  uint64_t pool_index = 0;
  while (begin < order.size()) {
    // A pool: as many shuffled examples as fill `pool_batches` budgets.
    long used = 0;
    size_t end = begin;
    while (end < order.size() && (used < pool_budget || end == begin))
      used += example_cost(data_, order[end++], options_.size_rule);
    std::vector<uint32_t> pool(order.begin() + static_cast<long>(begin), order.begin() + static_cast<long>(end));
    std::stable_sort(pool.begin(), pool.end(), [&](uint32_t a, uint32_t b) {
      if (data_.context_len(a) != data_.context_len(b)) return data_.context_len(a) < data_.context_len(b);
      return data_.answer_len(a) < data_.answer_len(b);
    });
    auto pool_batches = cut_batches(data_, pool, options_.max_tokens, options_.size_rule);
    shuffle(pool_batches, splitmix64(key + ++pool_index));
    for (auto& b : pool_batches) batches.push_back(std::move(b));
    begin = end;
  }
  return batches;
}

BatchRows TrainStream::next(StreamPosition& pos) const {
  if (data_.size() == 0) return {};
  while (true) {
    if (cached_epoch_ != pos.epoch) {
      cached_ = epoch(pos.epoch);
      cached_epoch_ = pos.epoch;
    }
    if (pos.batch < cached_.size()) return cached_[pos.batch++];
    ++pos.epoch;
    pos.batch = 0;
  }
}

}  // namespace deca
