// Pretrained word vectors for the embedding table (model.embeddings_file).
#pragma once

#include <filesystem>

#include "deca/data/tokenizer.h"
#include "deca/model/model.h"

namespace deca {

struct EmbeddingCoverage {
  long vectors = 0;      // vectors read from the file
  long whole_words = 0;  // units that are a whole word of the file: its vector
  long word_parts = 0;   // units that are only part of words: the mean vector of the file's words they are part of
  long units = 0;        // the vocabulary's size
};

// Initialises rows of the model's embedding table from a text vector file:
// GloVe ("word v1 ... vd" per line) or word2vec/fastText .vec (the same after a
// "count dimension" header line). Words are looked up as the tokenizer sees
// them (lowercased when it lowercases; the first vector of a word wins). A unit
// that is a whole word (scheme words: "▁lisbon▁"; scheme pieces: a piece that
// is a word) takes that word's vector; a unit that is only part of words takes
// the mean vector of the file's words whose pieces contain it; other units keep
// their random initialisation. The vectors' width must be model.embedding_dim.
EmbeddingCoverage init_embeddings(model::Seq2Seq& model, const Tokenizer& tokenizer, const std::filesystem::path& file,
                                  long dim);

// Stops training the embedding table (decaNLP freezes its GloVe and character vectors).
void freeze_embeddings(model::Seq2Seq& model);

}  // namespace deca
