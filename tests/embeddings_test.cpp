// Pretrained vectors: GloVe and word2vec/fastText text files initialise the
// embedding rows of whole words and of word parts; freezing stops their training.
#include <fstream>
#include <map>
#include <random>

#include "deca/core/error.h"
#include "deca/infer/checkpoint.h"
#include "deca/model/model.h"
#include "deca/train/embeddings.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

class EmbeddingsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = deca::testing::unique_temp_path("deca-emb");
    std::vector<std::string> texts;
    for (int i = 0; i < 50; ++i) texts.push_back("the house of lisbon is near the river and the house of porto");
    deca::TokenizerOptions o;
    o.vocab_size = 400;  // 260 bytes and specials, the rest merges: every word of the text is one unit
    deca::Tokenizer::train(texts, o, dir_ / "tok.model", 3);
    tok_ = deca::Tokenizer::load(dir_ / "tok.model");
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  std::shared_ptr<deca::model::Seq2Seq> model() const {
    deca::ModelOptions m;
    m.dimension = 16;
    m.embedding_dim = 4;
    m.transformer_hidden = 16;
    m.transformer_heads = 2;
    return deca::model::make_model(m, deca::vocabulary_of(*tok_));
  }
  static torch::Tensor row(deca::model::Seq2Seq& m, int32_t id) {
    for (auto& p : m.named_parameters())
      if (p.key() == "embedding.weight") return p.value()[id].detach().clone();
    return {};
  }
  static fs::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return dir_ / name;
  }

  static inline fs::path dir_;
  static inline std::shared_ptr<const deca::Tokenizer> tok_;
};

TEST_F(EmbeddingsTest, GloveAndVecFilesInitialiseWholeWords) {
  const std::string body = "House 1 2 3 4\nlisbon 0.5 -0.5 0.25 1e-1\nunseenword 9 9 9 9\n";
  for (const auto& file : {write("glove.txt", body), write("fasttext.vec", "3 4\n" + body)}) {
    auto m = model();
    const auto c = deca::init_embeddings(*m, *tok_, file, 4);
    EXPECT_EQ(c.vectors, 3);
    EXPECT_GE(c.whole_words, 2);
    const auto house = tok_->encode("house"), lisbon = tok_->encode("lisbon");
    ASSERT_EQ(house.size(), 1u);  // a frequent word is one unit: "▁house▁"
    EXPECT_TRUE(torch::equal(row(*m, house[0]), torch::tensor({1.f, 2.f, 3.f, 4.f}))) << "lowercased lookup of House";
    ASSERT_EQ(lisbon.size(), 1u);
    EXPECT_TRUE(torch::allclose(row(*m, lisbon[0]), torch::tensor({0.5f, -0.5f, 0.25f, 0.1f})));
  }
}

TEST_F(EmbeddingsTest, PartsOfWordsTakeTheMeanOfTheirWords) {
  // Two unseen words share the tokenizer's pieces; each piece of them gets the
  // mean of the vectors of the words it is part of.
  auto m = model();
  const auto a = tok_->encode("zqxa"), b = tok_->encode("zqxb");
  ASSERT_GT(a.size(), 1u);
  const auto c = deca::init_embeddings(*m, *tok_, write("parts.txt", "zqxa 2 0 0 0\nzqxb 0 2 0 0\n"), 4);
  EXPECT_GT(c.word_parts, 0);
  std::map<int32_t, std::vector<float>> expected;
  for (int32_t id : a) expected[id] = {2, 0, 0, 0};
  for (int32_t id : b) {
    if (expected.count(id))
      expected[id] = {1, 1, 0, 0};
    else
      expected[id] = {0, 2, 0, 0};
  }
  for (const auto& [id, v] : expected) EXPECT_TRUE(torch::allclose(row(*m, id), torch::tensor(v))) << "unit " << id;
}

TEST_F(EmbeddingsTest, BadFilesNameTheLine) {
  auto m = model();
  try {
    deca::init_embeddings(*m, *tok_, write("short.txt", "house 1 2 3 4\nlisbon 1 2 3\n"), 4);
    ADD_FAILURE() << "expected an error";
  } catch (const deca::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("short.txt:2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(deca::init_embeddings(*m, *tok_, write("header.vec", "2 300\nhouse 1 2 3 4\n"), 4), deca::DataError);
  EXPECT_THROW(deca::init_embeddings(*m, *tok_, write("nan.txt", "house 1 2 x 4\n"), 4), deca::DataError);
  EXPECT_THROW(deca::init_embeddings(*m, *tok_, dir_ / "missing.txt", 4), deca::DataError);
}

TEST_F(EmbeddingsTest, FrozenEmbeddingsDoNotLearn) {
  auto m = model();
  deca::freeze_embeddings(*m);
  int trainable = 0;
  for (auto& p : m->named_parameters()) {
    if (p.key() == "embedding.weight")
      EXPECT_FALSE(p.value().requires_grad());
    else
      trainable += p.value().requires_grad();
  }
  EXPECT_GT(trainable, 0);
}

}  // namespace
