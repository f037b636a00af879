#include "deca/infer/answer.h"

#include <unordered_set>

#include "deca/core/log.h"

namespace deca {

Answerer::Answerer(const Predictor& predictor, AnswerOptions options, OutputFile& out)
    : predictor_(predictor), options_(std::move(options)), out_(out) {
  // Every finished hypothesis of the beam, so that distinct answers can fill the list.
  if (options_.nbest > 1) options_.eval.decode.nbest = std::max(options_.eval.decode.nbest, options_.eval.decode.beam);
}

void Answerer::add(QuestionLine line) {
  queue_.push_back(std::move(line));
  if (static_cast<long>(queue_.size()) >= options_.chunk) flush();
}

void Answerer::flush() {
  if (queue_.empty()) return;
  std::vector<Example> examples;
  for (const auto& q : queue_)
    if (q.error.empty()) examples.push_back(q.example);
  SplitPredictions p;
  if (!examples.empty()) {
    const auto encoded = encode(examples, *predictor_.tokenizer, EncodeOptions::from(options_.data, false));
    truncated_ += encoded.truncated_contexts + encoded.truncated_questions;
    p = predict_split(predictor_, encoded, options_.eval);
  }
  size_t k = 0;
  for (const auto& q : queue_) {
    nlohmann::ordered_json line;
    line["id"] = q.id;
    if (!q.error.empty()) {
      line["error"] = q.error;
      log::warn("{}", q.error);
      ++failed_;
    } else {
      line["answer"] = p.answers[k];
      const auto& hyps = p.nbest[k];
      if (options_.scores && !hyps.empty()) line["score"] = hyps.front().score;
      if (options_.nbest > 1) {
        line["nbest"] = nlohmann::ordered_json::array();
        std::unordered_set<std::string> listed;
        for (const auto& h : hyps) {
          std::string answer = predictor_.tokenizer->decode_answer(h.tokens);
          if (!listed.insert(answer).second) continue;
          line["nbest"].push_back({{"answer", std::move(answer)}, {"score", h.score}, {"normalized", h.normalized}});
          if (static_cast<long>(listed.size()) == options_.nbest) break;
        }
      }
      ++k;
    }
    out_.write(line.dump() + "\n");
  }
  out_.flush();
  lines_ += static_cast<long>(queue_.size());
  queue_.clear();
  if (options_.after_chunk) options_.after_chunk(lines_);
}

}  // namespace deca
