// The SentencePiece tokenizer: trained on the sample tasks' training text,
// encode/decode round trips, byte fallback covers any input. This file is also
// compiled into the LibTorch test binary, to prove the tokenizer works in a
// process that links torch.
#include <random>

#include "deca/core/error.h"
#include "deca/data/tokenizer.h"
#include "deca/text/unicode.h"
#include <fstream>
#include "deca/tasks/task.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

class TokenizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("deca-tok-" + std::to_string(std::random_device{}()));
    std::vector<std::string> texts;
    const fs::path root = deca::testing::source_dir() / "data" / "sample";
    for (const auto& name : deca::decathlon_tasks()) {
      for (const auto& ex : deca::find_task(name, root)->read(root, deca::Split::Train)) {
        texts.push_back(ex.context);
        texts.push_back(ex.question);
        texts.push_back(ex.answer());
      }
    }
    deca::TokenizerOptions options;
    options.vocab_size = 600;
    deca::Tokenizer::train(texts, options, dir_ / "tokenizer.model", 7);
    tokenizer_ = deca::Tokenizer::load(dir_ / "tokenizer.model");
  }
  static void TearDownTestSuite() {
    tokenizer_.reset();
    fs::remove_all(dir_);
  }
  static inline fs::path dir_;
  static inline std::shared_ptr<const deca::Tokenizer> tokenizer_;
};

TEST_F(TokenizerTest, SpecialIdsAndVocabulary) {
  EXPECT_EQ(tokenizer_->pad_id(), 0);
  EXPECT_EQ(tokenizer_->unk_id(), 1);
  EXPECT_EQ(tokenizer_->bos_id(), 2);
  EXPECT_EQ(tokenizer_->eos_id(), 3);
  EXPECT_LE(tokenizer_->vocab_size(), 600);
  EXPECT_GT(tokenizer_->vocab_size(), 256);
  EXPECT_TRUE(tokenizer_->lowercase());
  EXPECT_EQ(tokenizer_->fingerprint().size(), 40u);
}

TEST_F(TokenizerTest, RoundTripIsLowercasedText) {
  for (const std::string s : {"The house of Lisbon was designed by Anna and opened in 1870.",
                              "SELECT COUNT City FROM table WHERE Population > 120000",
                              "price range: cheap, area: east; phone, postcode", "Das Haus ist klein."}) {
    const auto ids = tokenizer_->encode(s);
    EXPECT_FALSE(ids.empty());
    EXPECT_EQ(tokenizer_->decode(ids), deca::text::lower(s)) << s;
  }
}

TEST_F(TokenizerTest, ByteFallbackCoversUnseenCharacters) {
  const std::string s = "zürich – 東京 🚀 ﬁn ½";
  const auto ids = tokenizer_->encode(s);
  for (int id : ids) EXPECT_NE(id, tokenizer_->unk_id()) << "unknown piece in " << s;
  EXPECT_EQ(tokenizer_->decode(ids), deca::text::lower(s));
}

TEST_F(TokenizerTest, LoadErrorsNameTheFile) {
  const fs::path bogus = dir_ / "bogus.model";
  std::ofstream(bogus) << "not a model";
  try {
    deca::Tokenizer::load(bogus);
    ADD_FAILURE() << "expected an error";
  } catch (const deca::Error& e) {
    EXPECT_NE(std::string(e.what()).find("bogus.model"), std::string::npos) << e.what();
  }
  EXPECT_THROW(deca::Tokenizer::load(dir_ / "missing.model"), deca::DataError);
}

}  // namespace
