// Bad input for every reader: a malformed record is an error naming the file
// and line (or record), or is skipped and counted when asked; a missing file
// names the path and how to get the data. Runs on copies of data/sample.
#include <fstream>
#include <random>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/tasks/task.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

class ReaderBadInput : public ::testing::Test {
 protected:
  deca::testing::TempDir tmp_{"deca-bad-input"};
  const fs::path& root_ = tmp_.path();

  // Copies data/sample/<folder> into the temporary data root.
  void copy_sample(const std::string& folder) {
    fs::copy(deca::testing::source_dir() / "data" / "sample" / folder, root_ / folder, fs::copy_options::recursive);
  }
  void write(const std::string& rel, const std::string& content) {
    std::ofstream(root_ / rel, std::ios::binary) << content;
  }
  // Replaces line `n` (1-based) of a file.
  void replace_line(const std::string& rel, int n, const std::string& line) {
    const std::string text = deca::read_file(root_ / rel);
    std::string out;
    int k = 0;
    deca::for_each_line_in(text, [&](std::string_view l, long) {
      out += (++k == n) ? line : std::string(l);
      out += '\n';
    });
    write(rel, out);
  }

  // Expects reading to fail with a message containing every one of `parts`;
  // then, with skipping on, expects `skipped` records skipped.
  void expect_bad(const std::string& task, deca::Split split, const std::vector<std::string>& parts, long skipped) {
    const auto t = deca::find_task(task, root_);
    try {
      t->read(root_, split);
      ADD_FAILURE() << task << ": expected a DataError";
    } catch (const deca::DataError& e) {
      for (const auto& p : parts)
        EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what() << " lacks " << p;
    }
    if (skipped > 0) {
      deca::ReadOptions skip;
      skip.skip_bad_records = true;
      deca::ReadReport report;
      t->read(root_, split, skip, &report);
      EXPECT_EQ(report.skipped, skipped) << task;
      EXPECT_EQ(report.problems.size(), static_cast<size_t>(skipped));
    }
  }
};

TEST_F(ReaderBadInput, SquadInvalidJsonNamesLine) {
  copy_sample("squad");
  write("squad/train-v1.1.json", "{\"data\": [\n{\"title\": \"x\",\n \"paragraphs\": [}\n");
  expect_bad("squad", deca::Split::Train, {"train-v1.1.json:3", "invalid JSON"}, 0);
}

TEST_F(ReaderBadInput, SquadQuestionWithoutText) {
  copy_sample("squad");
  auto doc = deca::testing::load_json(root_ / "squad/dev-v1.1.json");
  doc["data"][1]["paragraphs"][0]["qas"][2].erase("question");
  write("squad/dev-v1.1.json", doc.dump());
  expect_bad("squad", deca::Split::Validation, {"dev-v1.1.json", "data[1].paragraphs[0].qas[2]", "question"}, 1);
}

TEST_F(ReaderBadInput, IwsltSidesMustBeParallel) {
  copy_sample("iwslt");
  const std::string de = deca::read_file(root_ / "iwslt/en-de/train.tags.en-de.de");
  write("iwslt/en-de/train.tags.en-de.de", de + "Ein Satz zu viel.\n");
  expect_bad("iwslt.en.de", deca::Split::Train, {"train.tags.en-de.en", "line-parallel"}, 0);
}

TEST_F(ReaderBadInput, CnnMissingStoryNamesUrlLine) {
  copy_sample("cnn");
  copy_sample("dailymail");
  replace_line("cnn/cnn/cnn_wayback_validation_urls.txt", 2, "http://news.example/no-such-story.html");
  expect_bad("cnn_dailymail", deca::Split::Validation, {"cnn_wayback_validation_urls.txt:2", "missing"}, 1);
}

TEST_F(ReaderBadInput, MultinliBadJsonLine) {
  copy_sample("multinli");
  replace_line("multinli/multinli_1.0/multinli_1.0_train.jsonl", 3, "{\"sentence1\": \"unterminated");
  replace_line("multinli/multinli_1.0/multinli_1.0_train.jsonl", 5,
               "{\"sentence1\": \"no label\", \"sentence2\": \"x\"}");
  expect_bad("multinli.in.out", deca::Split::Train, {"multinli_1.0_train.jsonl:3", "JSON"}, 2);
}

TEST_F(ReaderBadInput, SstBadLabel) {
  copy_sample("sst");
  replace_line("sst/train_binary_sent.csv", 4, "7,A review with an impossible label.");
  expect_bad("sst", deca::Split::Train, {"train_binary_sent.csv:4", "label 0 or 1"}, 1);
}

TEST_F(ReaderBadInput, SstSentenceWithAnUnquotedComma) {
  copy_sample("sst");
  replace_line("sst/train_binary_sent.csv", 3, "1,Warm, funny and wise.");
  expect_bad("sst", deca::Split::Train, {"train_binary_sent.csv:3", "quoted", "3 fields"}, 1);
}

TEST_F(ReaderBadInput, SstFileWithoutItsHeader) {
  copy_sample("sst");
  replace_line("sst/dev_binary_sent.csv", 1, "1,A first example where the header should be.");
  expect_bad("sst", deca::Split::Validation, {"dev_binary_sent.csv:1", "header line \"label,sentence\""}, 1);
}

TEST_F(ReaderBadInput, SstLatin1BytesAreNotReplacedSilently) {
  copy_sample("sst");
  replace_line("sst/test_binary_sent.csv", 2,
               "0,Cr\xe8me br\xfbl\xe9"
               "e gone wrong.");
  expect_bad("sst", deca::Split::Test, {"test_binary_sent.csv:2", "not valid UTF-8"}, 1);
}

TEST_F(ReaderBadInput, SchemaCutShortIsReported) {
  copy_sample("schema");
  // The first 30 blocks only (60 examples): no test split of 100 can be cut from it.
  const std::string text = deca::read_file(root_ / "schema/schema.txt");
  size_t pos = 0;
  for (int blocks = 0; blocks < 30; ++blocks) pos = text.find("\n\n", pos) + 2;
  write("schema/schema.txt", text.substr(0, pos));
  expect_bad("schema", deca::Split::Train, {"schema.txt", "holds 60 examples", "cut short"}, 0);
}

TEST_F(ReaderBadInput, WozDialogueWithoutTurns) {
  copy_sample("woz");
  auto doc = deca::testing::load_json(root_ / "woz/woz_test_en.json");
  doc[0].erase("dialogue");
  doc[2]["dialogue"] = "oops";
  write("woz/woz_test_en.json", doc.dump());
  expect_bad("woz.en", deca::Split::Test, {"woz_test_en.json", "dialogue 0", "\"dialogue\" list of turns"}, 2);
}

TEST_F(ReaderBadInput, SrlQuestionLineWithoutAnswerSeparator) {
  copy_sample("srl");
  replace_line("srl/wiki1.dev.qa", 4, "who\t_\t_\tbuilt\tsomething\t_\t_\tno question mark\tAnna");
  expect_bad("srl", deca::Split::Validation, {"wiki1.dev.qa:4", "'?'"}, 1);
}

TEST_F(ReaderBadInput, SrlAnswerNotInSentence) {
  copy_sample("srl");
  replace_line("srl/wiki1.dev.qa", 5, "what\t_\t_\tbuilt\t_\t_\t_\t?\tsomething else entirely");
  expect_bad("srl", deca::Split::Validation, {"wiki1.dev.qa:5", "does not occur"}, 1);
}

TEST_F(ReaderBadInput, ZreTooFewFields) {
  copy_sample("zre");
  replace_line("zre/relation_splits/test.0", 2, "place of birth\tWhere was XXX born?");
  expect_bad("zre", deca::Split::Test, {"test.0:2", "tabs"}, 1);
}

TEST_F(ReaderBadInput, WozTurnWithoutTranscript) {
  copy_sample("woz");
  auto doc = deca::testing::load_json(root_ / "woz/woz_test_en.json");
  doc[1]["dialogue"][2].erase("transcript");
  write("woz/woz_test_en.json", doc.dump());
  expect_bad("woz.en", deca::Split::Test, {"woz_test_en.json", "dialogue 1, turn 2", "transcript"}, 1);
}

TEST_F(ReaderBadInput, WozInvalidJson) {
  copy_sample("woz");
  write("woz/woz_validate_en.json", "[{\"dialogue\": [\n]\n");
  expect_bad("woz.en", deca::Split::Validation, {"woz_validate_en.json", "invalid JSON"}, 0);
}

TEST_F(ReaderBadInput, WikisqlUnknownTableAndBadQuery) {
  copy_sample("wikisql");
  replace_line(
      "wikisql/data/dev.jsonl", 2,
      R"({"phase": 1, "table_id": "no-such-table", "question": "Q?", "sql": {"sel": 0, "agg": 0, "conds": []}})");
  replace_line("wikisql/data/dev.jsonl", 3,
               R"({"phase": 1, "table_id": "dev-1", "question": "Q?", "sql": {"sel": 9, "agg": 0, "conds": []}})");
  expect_bad("wikisql", deca::Split::Validation, {"dev.jsonl:2", "no-such-table"}, 2);
}

TEST_F(ReaderBadInput, SchemaBlockOfTwoLines) {
  copy_sample("schema");
  replace_line("schema/schema.txt", 3, "");
  expect_bad("schema", deca::Split::Test, {"schema.txt:1", "block of 3 lines"}, 1);
}

TEST_F(ReaderBadInput, CustomAnswerMissing) {
  copy_sample("capitals");
  replace_line("capitals/train.jsonl", 2, R"({"context": "c", "question": "q"})");
  expect_bad("capitals", deca::Split::Train, {"train.jsonl:2", "answer"}, 1);
}

TEST_F(ReaderBadInput, MissingFilesNameThePathAndTheSource) {
  for (const auto& task : deca::decathlon_tasks()) {
    const auto t = deca::find_task(task, root_);
    try {
      t->read(root_, deca::Split::Train);
      ADD_FAILURE() << task << ": expected a missing-file error";
    } catch (const deca::DataError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("missing file " + root_.string()), std::string::npos) << msg;
      EXPECT_NE(msg.find("; "), std::string::npos) << "no hint on how to get the data: " << msg;
    }
  }
}

// A folder where a file is expected is named as such; CoNLL files without their
// task.json are a tagging task missing it, not a custom task missing train.jsonl.
TEST_F(ReaderBadInput, AFolderForAFileAndCoNllWithoutTaskJsonAreNamed) {
  fs::create_directories(root_ / "sst" / "train_binary_sent.csv");
  const auto folder = deca::testing::what_of([&] { deca::find_task("sst", root_)->read(root_, deca::Split::Train); });
  EXPECT_NE(folder.find("train_binary_sent.csv is a folder, not a file"), std::string::npos) << folder;
  fs::create_directories(root_ / "ner");
  deca::write_file_atomic(root_ / "ner" / "train.txt", "Paris B-LOC\n");
  const auto conll = deca::testing::what_of([&] { deca::find_task("ner", root_)->read(root_, deca::Split::Train); });
  EXPECT_NE(conll.find("missing file " + (root_ / "ner" / "task.json").string()), std::string::npos) << conll;
  EXPECT_NE(conll.find("looks like CoNLL column files"), std::string::npos) << conll;
}

TEST_F(ReaderBadInput, UnknownTaskIsAConfigError) {
  EXPECT_THROW(deca::find_task("nosuchtask", root_), deca::ConfigError);
  EXPECT_THROW(deca::find_task("multinli.both", root_), deca::ConfigError);
  EXPECT_THROW(deca::find_task("iwslt.en.xx", root_)->read(root_, deca::Split::Train), deca::ConfigError);
}

}  // namespace

TEST_F(ReaderBadInput, TaggingLinesNameTheProblem) {
  copy_sample("ner");
  // validation.txt: line 1 "-DOCSTART- O", line 2 blank, line 3 the first token.
  replace_line("ner/validation.txt", 3, "Nordic X-ORG");
  expect_bad("ner", deca::Split::Validation, {"validation.txt:3", "X-ORG", "expected O, B-<type> or I-<type>"}, 1);
  replace_line("ner/validation.txt", 3, "Nordic B-VEHICLE");
  expect_bad("ner", deca::Split::Validation,
             {"validation.txt:3", "VEHICLE", "no question in task.json", "PER, LOC, ORG, MISC"}, 1);
  replace_line("ner/validation.txt", 3, "Nordic");
  expect_bad("ner", deca::Split::Validation, {"validation.txt:3", "a token and its tag"}, 1);
  // A skipped sentence takes its four questions with it.
  deca::ReadOptions skip;
  skip.skip_bad_records = true;
  deca::ReadReport report;
  const auto examples = deca::find_task("ner", root_)->read(root_, deca::Split::Validation, skip, &report);
  EXPECT_EQ(examples.size(), 29u * 4);
}

TEST_F(ReaderBadInput, TaggingTaskJsonErrorsNameFileAndKey) {
  copy_sample("ner");
  auto expect_config_error = [&](const std::string& json, const std::string& part) {
    write("ner/task.json", json);
    try {
      deca::find_task("ner", root_);
      ADD_FAILURE() << json << ": expected a ConfigError";
    } catch (const deca::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("task.json"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what() << " lacks " << part;
    }
  };
  expect_config_error(R"({"format": "iob", "questions": {"LOC": "Where?"}})", "\"format\"");
  expect_config_error(R"({"format": "conll"})", "\"questions\"");
  expect_config_error(R"({"format": "conll", "questions": {"LOC": 3}})", "\"LOC\"");
  expect_config_error(R"({"format": "conll", "questions": {"LOC": "Where?"}, "sep": "; "})", "unknown key \"sep\"");
  expect_config_error(R"({"format": "conll", "questions": {"LOC": "Where?"}, "separator": "  "})", "\"separator\"");
  expect_config_error("{\"format\": ", "invalid JSON");
  // Taken without a word before: a type given twice (the later one won), two
  // types asking the same question, a separator that glues entities into one word.
  expect_config_error(R"({"format": "conll", "questions": {"LOC": "Where?", "LOC": "Which places?"}})",
                      "duplicate key \"questions.LOC\"");
  expect_config_error(R"({"format": "conll", "questions": {"LOC": "Where?", "GPE": "Where?"}})",
                      "LOC and GPE ask the same question");
  expect_config_error(R"({"format": "conll", "questions": {"LOC": "Where?"}, "separator": "and"})", "glue entities");
}

// A split file without a single sentence is an error, not zero examples.
TEST_F(ReaderBadInput, TaggingFileWithoutSentencesIsAnError) {
  copy_sample("ner");
  write("ner/train.txt", "-DOCSTART- O\n\n\n");
  try {
    deca::find_task("ner", root_)->read(root_, deca::Split::Train);
    ADD_FAILURE() << "expected an error for a train.txt without sentences";
  } catch (const deca::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("train.txt"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("holds no sentence"), std::string::npos) << e.what();
  }
}
