#include "deca/train/predict.h"

#include <chrono>

#include "deca/data/batching.h"

namespace deca {

SplitPredictions predict_split(model::Seq2Seq& model, const Tokenizer& tokenizer, const model::Vocabulary& vocab,
                               const EncodedSplit& data, long max_tokens, const std::string& size_rule,
                               const model::DecodeOptions& options, const torch::Device& device,
                               const std::function<void(size_t, size_t)>& progress) {
  const auto start = std::chrono::steady_clock::now();
  const bool was_training = model.is_training();
  model.eval();
  SplitPredictions out;
  out.answers.resize(data.size());
  out.nbest.resize(data.size());
  size_t done = 0;
  // Beams multiply the decoder's rows: keep the budget per beam.
  const long budget = std::max<long>(1, max_tokens / std::max<int64_t>(1, options.beam));
  for (const auto& rows : eval_batches(data, budget, size_rule)) {
    const auto batch = model::make_batch(data, rows, vocab, device, /*with_answers=*/false);
    auto hyps = model::decode(model, batch, vocab, options);
    for (size_t i = 0; i < rows.size(); ++i) {
      auto& h = hyps[i];
      if (!h.empty()) {
        out.answers[rows[i]] = tokenizer.decode(h.front().tokens);
        out.generated_tokens += static_cast<long>(h.front().tokens.size());
      }
      out.nbest[rows[i]] = std::move(h);
    }
    done += rows.size();
    if (progress) progress(done, data.size());
  }
  if (was_training) model.train();
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

EvalOptions EvalOptions::from(const Config& config) {
  EvalOptions o;
  o.max_tokens = config.batching.eval_max_tokens;
  o.size_rule = config.batching.size_rule;
  o.decode.max_length = config.model.max_output_length;
  return o;
}

SplitEvaluation evaluate_split(model::Seq2Seq& model, const Tokenizer& tokenizer, const model::Vocabulary& vocab,
                               const TaskSplit& split, const EvalOptions& options, const torch::Device& device) {
  SplitEvaluation e;
  e.predictions = predict_split(model, tokenizer, vocab, split.encoded, options.max_tokens, options.size_rule, options.decode,
                                device);
  e.result = score_task(*split.task, e.predictions.answers, split.examples, e.predictions.seconds);
  return e;
}

}  // namespace deca
