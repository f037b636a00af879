// Batches by token budget with length bucketing, deterministic for a seed.
// A training batch stream is a pure function of (seed, task, epoch), so the
// position (epoch, batch) is all that resuming needs.
#pragma once

#include <cstdint>
#include <vector>

#include "deca/core/config.h"
#include "deca/data/encoded.h"

namespace deca {

using BatchRows = std::vector<uint32_t>;  // indices into an EncodedSplit

// What one example adds to a batch's cost under the size rule:
//  padded:  context + question + answer + 2 (the batch costs #examples x the longest);
//  decanlp: max(context, 5 x answer) (decaNLP's batch_fn).
long example_cost(const EncodedSplit& data, uint32_t row, const std::string& rule);

// Cuts `order` into consecutive batches of at most `max_tokens` each (an
// example over the budget alone forms its own batch).
std::vector<BatchRows> cut_batches(const EncodedSplit& data, const std::vector<uint32_t>& order, long max_tokens,
                                   const std::string& rule);

// Evaluation batches: examples sorted by length (longest first) and cut by
// budget. Every example appears exactly once.
std::vector<BatchRows> eval_batches(const EncodedSplit& data, long max_tokens, const std::string& rule);

struct StreamPosition {
  uint64_t epoch = 0;
  uint64_t batch = 0;  // index within the epoch's batches
};

// The endless training stream of one task: each epoch shuffles the examples,
// sorts them by length inside pools of `pool_batches` budgets, cuts batches and
// shuffles the batches.
class TrainStream {
 public:
  TrainStream(const EncodedSplit& data, const BatchOptions& options, uint64_t seed, uint64_t task_salt);
  // The batch at `pos`, advancing `pos`.
  BatchRows next(StreamPosition& pos) const;
  // The batches of one epoch (exposed for tests).
  std::vector<BatchRows> epoch(uint64_t e) const;

 private:
  const EncodedSplit& data_;
  BatchOptions options_;
  uint64_t seed_, salt_;
  mutable uint64_t cached_epoch_ = ~0ull;
  mutable std::vector<BatchRows> cached_;
};

// Small deterministic generators (identical on every platform).
uint64_t splitmix64(uint64_t x);
// A uniform double in [0, 1) from a key.
double uniform01(uint64_t key);

}  // namespace deca
