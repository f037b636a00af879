#include "deca/model/decode.h"

#include <cmath>
#include <limits>
#include <numeric>

#include "deca/core/stop.h"

namespace deca::model {

std::vector<std::vector<Hypothesis>> decode(Seq2Seq& model, const Batch& batch, const Vocabulary& vocab,
                                            const DecodeOptions& options) {
  torch::NoGradGuard no_grad;
  const int64_t rows = batch.context.size(0);
  const int64_t k = std::max<int64_t>(1, options.beam);
  const int64_t nbest = std::min(std::max<int64_t>(1, options.nbest), k);
  const auto device = batch.context.device();
  auto normalize = [&](double score, size_t length) {
    return options.length_penalty == 0 ? score : score / std::pow(static_cast<double>(length), options.length_penalty);
  };

  auto state = model.start(batch, options.output_precision);
  // Beams live as rows of the state: row r's beams are alive[r] * k ... + k - 1.
  std::vector<int64_t> alive(static_cast<size_t>(rows));
  std::iota(alive.begin(), alive.end(), 0);
  if (k > 1) state->select(torch::arange(rows, torch::kInt64).repeat_interleave(k).to(device));
  std::vector<std::vector<int32_t>> tokens(static_cast<size_t>(rows * k));
  std::vector<double> scores(static_cast<size_t>(rows * k), 0.0);
  std::vector<int64_t> words(static_cast<size_t>(rows * k), 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 1; b < k; ++b) scores[static_cast<size_t>(r * k + b)] = -std::numeric_limits<double>::infinity();
  std::vector<std::vector<Hypothesis>> finished(static_cast<size_t>(rows));
  auto previous = torch::full({rows * k}, vocab.bos, torch::kInt64).to(device);

  const int64_t max_steps = options.max_steps();
  for (int64_t t = 0; t < max_steps && !alive.empty(); ++t) {
    stop::check();  // a stop signal ends decoding within one step
    const int64_t n = static_cast<int64_t>(alive.size());
    // The candidates' scores and their top 2k stay on the model's device; only
    // those (n, 2k) come to the host for the bookkeeping below.
    const int64_t vsize = vocab.size, width = std::min<int64_t>(2 * k, k * vsize);
    // A beam's score is the same for all its tokens, so an example's best 2k
    // candidates are among each beam's best 2k tokens: those, in float64 with
    // the beams' scores added, are all that is ranked (not n*k*V sums).
    // <pad> and <bos> are in no target, so they are never emitted (an untrained
    // model's pointer copies the inputs' leading <init>, which is <bos>, and
    // would repeat it to the step bound): two more candidates per beam cover them.
    const int64_t per_beam = std::min<int64_t>(width + 2, vsize);
    auto [beam_top, beam_token] = model.step_top(*state, previous, per_beam);  // (n*k, per_beam)
    beam_top = beam_top.masked_fill(beam_token.eq(vocab.pad).logical_or_(beam_token.eq(vocab.bos)),
                                    -std::numeric_limits<float>::infinity());
    auto base = torch::tensor(scores, torch::kFloat64).view({n * k, 1}).to(device);
    auto cand = (beam_top.to(torch::kFloat64) + base).view({n, k * per_beam});
    auto [top_scores_d, top_pos_d] = cand.topk(width, 1);  // positions beam * per_beam + j
    // As indices beam * V + token.
    auto top_index_d =
        torch::div(top_pos_d, per_beam, "floor") * vsize + beam_token.view({n, k * per_beam}).gather(1, top_pos_d);
    const auto top_scores = top_scores_d.to(torch::kCPU), top_index = top_index_d.to(torch::kCPU);
    auto ts = top_scores.accessor<double, 2>();
    auto ti = top_index.accessor<int64_t, 2>();
    const bool last = t + 1 == max_steps;

    std::vector<int64_t> keep_rows, next_alive;
    std::vector<std::vector<int32_t>> next_tokens;
    std::vector<double> next_scores;
    std::vector<int64_t> next_words;
    std::vector<int64_t> next_prev;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t row = alive[static_cast<size_t>(i)];
      auto& done = finished[static_cast<size_t>(row)];
      std::vector<int64_t> picks;
      for (int64_t j = 0; j < width && static_cast<int64_t>(picks.size()) < k; ++j) {
        const double s = ts[i][j];
        if (!std::isfinite(s)) break;
        const int64_t beam = ti[i][j] / vsize, token = ti[i][j] % vsize;
        const auto& prefix = tokens[static_cast<size_t>(i * k + beam)];
        const bool too_long = words[static_cast<size_t>(i * k + beam)] == options.max_length &&
                              vocab.new_word(prefix.empty() ? -1 : prefix.back(), static_cast<int32_t>(token));
        if (token == vocab.eos || too_long) {
          // An end only counts among the k best candidates (as fairseq). A
          // piece that would begin one word too many ends the hypothesis too.
          if (j < k) done.push_back({prefix, s, normalize(s, prefix.size() + 1)});
          continue;
        }
        picks.push_back(j);
      }
      const bool row_done = static_cast<int64_t>(done.size()) >= k || picks.empty() || last;
      if (row_done) {
        if (static_cast<int64_t>(done.size()) < nbest) {
          // Out of steps: the best unfinished beams are returned as they are.
          for (int64_t j : picks) {
            const int64_t beam = ti[i][j] / vsize;
            auto prefix = tokens[static_cast<size_t>(i * k + beam)];
            prefix.push_back(static_cast<int32_t>(ti[i][j] % vsize));
            done.push_back({prefix, ts[i][j], normalize(ts[i][j], prefix.size())});
          }
        }
        continue;
      }
      next_alive.push_back(row);
      for (int64_t p = 0; p < k; ++p) {
        // Fewer picks than beams: repeat the last one with -inf so it never wins.
        const int64_t j = picks[static_cast<size_t>(std::min<int64_t>(p, static_cast<int64_t>(picks.size()) - 1))];
        const int64_t beam = ti[i][j] / vsize, token = ti[i][j] % vsize;
        keep_rows.push_back(i * k + beam);
        auto prefix = tokens[static_cast<size_t>(i * k + beam)];
        next_words.push_back(
            words[static_cast<size_t>(i * k + beam)] +
            (vocab.new_word(prefix.empty() ? -1 : prefix.back(), static_cast<int32_t>(token)) ? 1 : 0));
        prefix.push_back(static_cast<int32_t>(token));
        next_tokens.push_back(std::move(prefix));
        next_scores.push_back(p < static_cast<int64_t>(picks.size()) ? ts[i][j]
                                                                     : -std::numeric_limits<double>::infinity());
        next_prev.push_back(token);
      }
    }
    const bool same_examples = next_alive.size() == alive.size();
    alive = std::move(next_alive);
    if (alive.empty()) break;
    // Most steps end no example: the encoded inputs stay, and in greedy
    // decoding nothing moves at all.
    bool identity = same_examples;
    for (size_t r = 0; identity && r < keep_rows.size(); ++r) identity = keep_rows[r] == static_cast<int64_t>(r);
    if (!identity) {
      const auto index = torch::tensor(keep_rows, torch::kInt64).to(device);
      if (same_examples)
        state->reorder(index);
      else
        state->select(index);
    }
    tokens = std::move(next_tokens);
    scores = std::move(next_scores);
    words = std::move(next_words);
    previous = torch::tensor(next_prev, torch::kInt64).to(device);
  }
  for (auto& done : finished) {
    std::stable_sort(done.begin(), done.end(),
                     [](const Hypothesis& a, const Hypothesis& b) { return a.normalized > b.normalized; });
    if (static_cast<int64_t>(done.size()) > nbest) done.resize(static_cast<size_t>(nbest));
  }
  return finished;
}

std::vector<double> sequence_scores(Seq2Seq& model, const Batch& batch, const Vocabulary& vocab,
                                    const std::vector<std::vector<int32_t>>& tokens) {
  torch::NoGradGuard no_grad;
  const int64_t rows = batch.context.size(0);
  auto state = model.start(batch);
  std::vector<double> out(static_cast<size_t>(rows), 0.0);
  size_t longest = 0;
  for (const auto& t : tokens) longest = std::max(longest, t.size() + 1);
  auto previous = torch::full({rows}, vocab.bos, torch::kInt64);
  for (size_t t = 0; t < longest; ++t) {
    auto logp = model.step(*state, previous.to(batch.context.device())).to(torch::kCPU).to(torch::kFloat64);
    for (int64_t r = 0; r < rows; ++r) {
      const auto& seq = tokens[static_cast<size_t>(r)];
      if (t > seq.size()) continue;
      const int64_t target = t < seq.size() ? seq[t] : vocab.eos;
      out[static_cast<size_t>(r)] += logp[r][target].item<double>();
      previous[r] = target;
    }
  }
  return out;
}

}  // namespace deca::model
