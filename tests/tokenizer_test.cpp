// The SentencePiece tokenizer: trained on the sample tasks' training text,
// encode/decode round trips, byte fallback covers any input. This file is also
// compiled into the LibTorch test binary, to prove the tokenizer works in a
// process that links torch.
#include <random>

#include <fstream>
#include "deca/core/error.h"
#include "deca/data/tokenizer.h"

#include "deca/data/encoded.h"
#include "deca/data/stats.h"
#include "deca/tasks/task.h"
#include "deca/text/revtok.h"
#include "deca/text/unicode.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

class TokenizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = deca::testing::unique_temp_path("deca-tok");
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

// The pieces of `s` that make up the word run of `needle` ("in lisbon" and
// "(lisbon)" must hold the pieces of "lisbon" contiguously).
bool has_run(const std::vector<int32_t>& hay, const std::vector<int32_t>& needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

TEST_F(TokenizerTest, SchemeWordsIsTheDefault) {
  EXPECT_EQ(tokenizer_->scheme(), "words");
  EXPECT_EQ(deca::TokenizerOptions{}.scheme, "words");
}

TEST_F(TokenizerTest, AWordIsTheSamePiecesWhereverItAppears) {
  for (const std::string word : {"lisbon", "house", "1870", "anna", "new york"}) {
    const auto alone = tokenizer_->encode(word);
    for (const std::string& context : {"in " + word + " today", "(" + word + ")", "-" + word + "-", "\"" + word + ",\"",
                                       word + ".", "Was it " + word + "?", "'" + word + "'s"}) {
      EXPECT_TRUE(has_run(tokenizer_->encode(context), alone)) << word << " in " << context;
    }
  }
}

TEST_F(TokenizerTest, DecodeGivesBackTheTextExactly) {
  // Spaces of every kind and count, tabs, line breaks, the marks the scheme
  // itself uses (U+2581, U+E000, U+E001), unseen characters, invalid UTF-8.
  for (const std::string s : {"", " ", "  ", "a  b", "a   b ", " x", "x ", "\tx\t\ty", "line\nbreak\r\n", "(lisbon)",
                              "a\xc2\xa0"
                              "b",
                              "\xe2\x96\x81word \xe2\x96\x81", "\xee\x80\x80 \xee\x80\x81x\xee\x80\x81", "u.s.-based",
                              "?!...", "1,000.5%", "e-mail: a@b.c", "\xff\xfe bad", "東京 タワー"}) {
    const auto ids = tokenizer_->encode(s);
    EXPECT_EQ(tokenizer_->decode(ids), deca::text::lower(s)) << "[" << s << "]";
  }
}

TEST_F(TokenizerTest, WordEndsCountRevtokTokens) {
  for (const std::string s : {"The house of Lisbon (1870) was designed by Anna.", "price range: cheap, area: east;",
                              "a  b", "", "SELECT COUNT City FROM table WHERE Population > 120000"}) {
    std::vector<uint32_t> ends;
    const auto ids = tokenizer_->encode(s, &ends);
    ASSERT_EQ(ends.size(), deca::text::revtok_count(deca::text::lower(s))) << s;
    if (!ends.empty()) {
      EXPECT_EQ(ends.back(), ids.size());
    }
    for (size_t i = 1; i < ends.size(); ++i) EXPECT_LT(ends[i - 1], ends[i]);
    // The decoder counts words from the pieces' marks alone.
    EXPECT_EQ(tokenizer_->count_words(ids), ends.size()) << s;
  }
}

TEST_F(TokenizerTest, PiecesShowSpacesAsMarks) {
  const auto ids = tokenizer_->encode("the house");
  std::string shown;
  for (int32_t id : ids) shown += tokenizer_->piece(id);
  EXPECT_EQ(shown, "\xe2\x96\x81the\xe2\x96\x81\xe2\x96\x81house\xe2\x96\x81");
}

TEST_F(TokenizerTest, TrainingFilterCountsWords) {
  deca::Example ex;
  ex.context = "one two three four five six";
  ex.question = "q?";
  ex.answers = {"alpha beta gamma"};
  deca::EncodeOptions o;
  o.training = true;
  o.max_answer_tokens = 3;
  o.max_context_tokens = 6;
  auto e = deca::encode({ex}, *tokenizer_, o);
  EXPECT_EQ(e.size(), 1u);
  o.max_answer_tokens = 2;  // three words: dropped
  e = deca::encode({ex}, *tokenizer_, o);
  EXPECT_EQ(e.dropped_long_answer, 1);
  o.max_answer_tokens = 3;
  o.max_context_tokens = 5;  // six words: dropped, unless the task truncates
  e = deca::encode({ex}, *tokenizer_, o);
  EXPECT_EQ(e.dropped_long_context, 1);
  o.truncate_contexts = true;
  e = deca::encode({ex}, *tokenizer_, o);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e.truncated_contexts, 1);
  const std::vector<int32_t> kept(e.context(0), e.context(0) + e.context_len(0));
  EXPECT_EQ(tokenizer_->decode(kept), "one two three four five");
  ex.answers = {"This page includes the show Transcript"};
  o.max_answer_tokens = 50;
  e = deca::encode({ex}, *tokenizer_, o);
  EXPECT_EQ(e.dropped_placeholder, 1);
  EXPECT_TRUE(deca::truncates_training_contexts("cnn_dailymail"));
  EXPECT_FALSE(deca::truncates_training_contexts("squad"));
}

// deca-data stats' numbers: answers copyable as a unit run and as revtok words,
// and the training drops by deca's filter beside decaNLP's rules.
TEST_F(TokenizerTest, StatsCountCopyableAnswersAndDrops) {
  auto example = [](std::string context, std::string answer) {
    deca::Example ex;
    ex.context = std::move(context);
    ex.question = "where is it?";
    ex.answers = {std::move(answer)};
    return ex;
  };
  std::string long_answer = "w";
  for (int i = 0; i < 50; ++i) long_answer += " w";  // 51 words
  const std::vector<deca::Example> examples = {
      example("the museum in (lisbon) opened in 1870.", "lisbon"),
      example("the museum in (lisbon) opened in 1870.", "paris"),
      example("a short context", long_answer),
      example("", "x"),
      example("a story", "this page includes the show today"),
  };
  const auto s = deca::copy_stats(examples, *tokenizer_);
  EXPECT_EQ(s.answers, 5);
  EXPECT_EQ(s.copyable_units, 1);
  EXPECT_EQ(s.copyable_words, 1);
  const auto drops = deca::training_drops("squad", examples, *tokenizer_, deca::DataOptions{});
  EXPECT_EQ(drops.decanlp, (deca::Drops{1, 0, 1, 1}));
  EXPECT_EQ(drops.deca, drops.decanlp);
  const auto lengths = deca::length_stats(examples);
  EXPECT_EQ(lengths.answer.max, 51u);
  EXPECT_EQ(lengths.context.max, 7u);
}

TEST_F(TokenizerTest, PiecesSchemeTokenizersStillLoad) {
  // deca's first tokenizers: SentencePiece over raw text, a sidecar without "scheme".
  std::vector<std::string> texts = {"the house of lisbon", "a house in lisbon", "houses and more houses"};
  deca::TokenizerOptions options;
  options.vocab_size = 300;
  options.scheme = "pieces";
  deca::Tokenizer::train(texts, options, dir_ / "old.model", 1);
  std::ofstream(dir_ / "old.json") << "{\"lowercase\": true}\n";
  const auto old = deca::Tokenizer::load(dir_ / "old.model");
  EXPECT_EQ(old->scheme(), "pieces");
  const auto ids = old->encode("The house (Lisbon)");
  EXPECT_EQ(old->decode(ids), "the house (lisbon)");
  std::vector<uint32_t> ends;
  old->encode("the house", &ends);
  EXPECT_EQ(ends.size(), old->encode("the house").size());  // every piece is a word
  std::ofstream(dir_ / "old.json") << "{\"lowercase\": true, \"scheme\": \"morphemes\"}\n";
  try {
    deca::Tokenizer::load(dir_ / "old.model");
    ADD_FAILURE() << "expected an error";
  } catch (const deca::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("retrain"), std::string::npos) << e.what();
  }
}

// Every context, question and first gold answer of the ten tasks' validation
// splits in the shared data decodes back to itself (lowercased).
TEST_F(TokenizerTest, RoundTripOnAllValidationData) {
  DECA_REQUIRE_SHARED("data");
  const fs::path root = shared_root / "data";
  long texts = 0;
  std::vector<std::string> failures;
  for (const auto& name : deca::decathlon_tasks()) {
    const auto task = deca::find_task(name, root);
    for (const auto& ex : task->read(root, deca::Split::Validation)) {
      for (const auto* field : {&ex.context, &ex.question}) {
        ++texts;
        if (tokenizer_->decode(tokenizer_->encode(*field)) != deca::text::lower(*field))
          failures.push_back(name + " " + ex.id + ": " + field->substr(0, 80));
      }
      for (const auto& a : ex.answers) {
        ++texts;
        if (tokenizer_->decode(tokenizer_->encode(a)) != deca::text::lower(a))
          failures.push_back(name + " " + ex.id + " answer: " + a);
      }
    }
  }
  EXPECT_GT(texts, 10000);
  std::string shown;
  for (size_t i = 0; i < std::min<size_t>(failures.size(), 20); ++i) shown += "\n  " + failures[i];
  EXPECT_TRUE(failures.empty()) << failures.size() << " of " << texts << " texts do not round-trip:" << shown;
}

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

TEST_F(TokenizerTest, GeneratedBytesThatFormNoCharacterBecomeReplacementCharacters) {
  // "東" is three byte pieces here (E6 9D B1); a model may emit the first two alone.
  const auto ids = tokenizer_->encode("a 東");
  std::vector<std::string> pieces;
  for (int32_t id : ids) pieces.push_back(tokenizer_->piece(id));
  const auto first = std::find(pieces.begin(), pieces.end(), "<0xE6>");
  ASSERT_GE(pieces.end() - first, 3);
  ASSERT_EQ(first[1], "<0x9D>");
  ASSERT_EQ(first[2], "<0xB1>");
  auto cut = ids;
  cut.erase(cut.begin() + (first - pieces.begin()) + 2);
  EXPECT_FALSE(deca::text::valid_utf8(tokenizer_->decode(cut)));            // decode keeps the bytes
  EXPECT_EQ(tokenizer_->decode_answer(cut), "a \xef\xbf\xbd\xef\xbf\xbd");  // one U+FFFD per stray byte
  EXPECT_EQ(tokenizer_->decode_answer(ids), "a 東");
  EXPECT_EQ(tokenizer_->decode_answer(tokenizer_->encode("Zürich ½")), "zürich ½");
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
