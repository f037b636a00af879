#include "deca/train/embeddings.h"

#include <cstdlib>
#include <unordered_map>
#include <unordered_set>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/core/log.h"
#include "deca/text/unicode.h"

namespace fs = std::filesystem;

namespace deca {
namespace {

torch::Tensor embedding_weight(model::Seq2Seq& m) {
  for (auto& p : m.named_parameters())
    if (p.key() == "embedding.weight") return p.value();
  throw Error("the model has no embedding.weight table");
}

bool is_count(std::string_view s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos; }

}  // namespace

EmbeddingCoverage init_embeddings(model::Seq2Seq& m, const Tokenizer& tok, const fs::path& file, long dim) {
  require_file(file, "a GloVe or word2vec/fastText text file: one word and its vector per line");
  auto weight = embedding_weight(m);
  torch::NoGradGuard no_grad;
  const int64_t vocab = tok.vocab_size();
  EmbeddingCoverage c;
  c.units = vocab;
  std::vector<char> whole(static_cast<size_t>(vocab), 0);
  auto sums = torch::zeros({vocab, dim}, torch::kFloat64);
  std::vector<long> parts(static_cast<size_t>(vocab), 0);
  std::unordered_set<std::string> seen;
  std::vector<double> v(static_cast<size_t>(dim));
  for_each_line(file, [&](std::string_view line, long n) {
    const auto fields = text::split_ws(line);
    if (fields.empty()) return;
    if (n == 1 && fields.size() == 2 && is_count(fields[0]) && is_count(fields[1])) {  // word2vec/fastText header
      if (std::atol(fields[1].c_str()) != dim)
        throw DataError::at(file.string(), n,
                            "vectors of " + fields[1] + " numbers; model.embedding_dim is " + std::to_string(dim));
      return;
    }
    if (static_cast<long>(fields.size()) - 1 != dim)
      throw DataError::at(file.string(), n,
                          "expected a word and " + std::to_string(dim) + " numbers (model.embedding_dim), got " +
                              std::to_string(fields.size()) + " fields");
    const std::string word = tok.lowercase() ? text::lower(fields[0]) : fields[0];
    if (!seen.insert(word).second) return;
    for (size_t i = 1; i < fields.size(); ++i) {
      char* end = nullptr;
      v[i - 1] = std::strtod(fields[i].c_str(), &end);
      if (end == fields[i].c_str() || *end != '\0')
        throw DataError::at(file.string(), n, "\"" + fields[i] + "\" is not a number");
    }
    ++c.vectors;
    auto row = torch::tensor(v, torch::kFloat64);
    const auto ids = tok.encode(word);
    if (ids.size() == 1) {
      const auto id = static_cast<size_t>(ids[0]);
      if (!whole[id]) {
        whole[id] = 1;
        weight[ids[0]].copy_(row);
      }
      return;
    }
    for (int32_t id : ids) {
      sums[id] += row;
      ++parts[static_cast<size_t>(id)];
    }
  });
  for (int64_t id = 0; id < vocab; ++id) {
    if (whole[static_cast<size_t>(id)]) {
      ++c.whole_words;
    } else if (parts[static_cast<size_t>(id)] > 0) {
      weight[id].copy_(sums[id] / static_cast<double>(parts[static_cast<size_t>(id)]));
      ++c.word_parts;
    }
  }
  log::info("embeddings: {} vectors in {}; of {} units, {} whole words and {} parts of words initialised", c.vectors,
            file.string(), c.units, c.whole_words, c.word_parts);
  return c;
}

void freeze_embeddings(model::Seq2Seq& m) { embedding_weight(m).requires_grad_(false); }

}  // namespace deca
