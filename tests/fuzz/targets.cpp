#include "targets.h"

#include "deca/core/config.h"
#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/core/safetensors_format.h"
#include "deca/data/tokenizer.h"
#include "deca/metrics/metrics.h"
#include "deca/tasks/jsonl.h"
#include "deca/tasks/task.h"
#include "deca/text/revtok.h"
#include "deca/text/unicode.h"

namespace fs = std::filesystem;

namespace deca::fuzz {
namespace {

// A reader fed one mutated file inside a copy of the sample data root.
Target reader(const std::string& task, Split split, const std::string& file, const fs::path& root) {
  Target t;
  t.name = task + ":" + fs::path(file).filename().string();
  t.seeds.push_back(read_file(root / file));
  const auto the_task = find_task(task, root);
  const fs::path path = root / file;
  const std::string original = t.seeds.front();
  t.run = [the_task, root, path, split, original](std::string_view bytes) {
    write_file_atomic(path, bytes);
    // The other targets of this data root read the file too: put it back.
    struct Restore {
      const fs::path& path;
      const std::string& original;
      ~Restore() { write_file_atomic(path, original); }
    } restore{path, original};
    ReadOptions skip;
    skip.skip_bad_records = true;
    ReadReport report;
    the_task->read(root, split, skip, &report);  // skipping: every record is looked at
    the_task->read(root, split);                 // stopping at the first bad one
  };
  return t;
}

// A parser of a file's contents, fed through a file written in `dir`.
Target file_parser(const std::string& name, const fs::path& dir, std::vector<std::string> seeds,
                   std::function<void(const fs::path&)> parse) {
  Target t;
  t.name = name;
  t.seeds = std::move(seeds);
  const fs::path path = dir / (name + ".input");
  t.run = [path, parse](std::string_view bytes) {
    write_file_atomic(path, bytes);
    parse(path);
  };
  return t;
}

}  // namespace

std::vector<Target> all_targets(const fs::path& sample_root, const fs::path& configs_dir, const fs::path& work_dir) {
  // A copy of the sample data: each reader target rewrites one of its files.
  const fs::path root = work_dir / "data";
  fs::remove_all(root);
  fs::copy(sample_root, root, fs::copy_options::recursive);
  std::vector<Target> out;
  out.push_back(reader("squad", Split::Validation, "squad/dev-v1.1.json", root));
  out.push_back(reader("iwslt.en.de", Split::Train, "iwslt/en-de/train.tags.en-de.en", root));
  out.push_back(reader("iwslt.en.de", Split::Validation, "iwslt/en-de/IWSLT16.TED.tst2013.en-de.de.xml", root));
  out.push_back(reader("cnn_dailymail", Split::Test, "cnn/cnn/cnn_wayback_test_urls.txt", root));
  out.push_back(
      reader("cnn_dailymail", Split::Test, "cnn/cnn/stories/1a81dac60f0a7bf11c38761855ceab4040382fb4.story", root));
  out.push_back(
      reader("multinli.in.out", Split::Validation, "multinli/multinli_1.0/multinli_1.0_dev_matched.jsonl", root));
  out.push_back(reader("sst", Split::Validation, "sst/dev_binary_sent.csv", root));
  out.push_back(reader("srl", Split::Validation, "srl/wiki1.dev.qa", root));
  out.push_back(reader("zre", Split::Validation, "zre/relation_splits/dev.0", root));
  out.push_back(reader("woz.en", Split::Validation, "woz/woz_validate_en.json", root));
  out.push_back(reader("wikisql", Split::Validation, "wikisql/data/dev.jsonl", root));
  out.push_back(reader("wikisql", Split::Validation, "wikisql/data/dev.tables.jsonl", root));
  out.push_back(reader("schema", Split::Test, "schema/schema.txt", root));
  out.push_back(reader("capitals", Split::Validation, "capitals/validation.jsonl", root));

  std::vector<std::string> configs;
  for (const auto& e : fs::directory_iterator(configs_dir))
    if (e.path().extension() == ".json") configs.push_back(read_file(e.path()));
  Target config;
  config.name = "config";
  config.seeds = configs;
  config.run = [](std::string_view text) {
    const Config c = config_from_text(text, "fuzz.json");
    apply_overrides(c, {"training.steps=3", "curriculum.0.tasks=squad,sst"});
  };
  out.push_back(config);

  const std::string gold =
      R"({"id": "0", "task": "sst", "context": "a", "question": "q", "answers": ["positive"], "meta": {}})"
      "\n"
      R"({"id": 1, "task": "sst", "context": "b", "question": "q", "answers": ["negative", "x"]})"
      "\n";
  const std::string predictions = "{\"id\": \"0\", \"answer\": \"positive\"}\n{\"id\": 1, \"answer\": \"negative\"}\n";
  out.push_back(file_parser("gold_jsonl", work_dir, {gold}, [](const fs::path& p) { read_examples_jsonl(p); }));
  out.push_back(file_parser("predictions_jsonl", work_dir, {predictions}, [gold, work_dir](const fs::path& p) {
    const fs::path g = work_dir / "gold.fixed.jsonl";
    if (!fs::exists(g)) write_file_atomic(g, gold);
    const auto golds = read_examples_jsonl(g);
    const auto aligned = align_predictions(golds, read_predictions_jsonl(p), p.string());
    find_task("sst")->score(aligned, golds);
  }));

  Target safetensors;
  safetensors.name = "safetensors";
  {
    const std::string header =
        R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
        R"("b":{"dtype":"I64","shape":[],"data_offsets":[24,32]}})";
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i) bytes[static_cast<size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
    safetensors.seeds.push_back(bytes + header + std::string(32, '\x3f'));
  }
  safetensors.run = [](std::string_view bytes) {
    const auto layout = parse_safetensors(bytes, "fuzz.safetensors");
    // Touch every byte the layout claims, as the loader copies them.
    unsigned sum = 0;
    for (const auto& t : layout.tensors)
      for (uint64_t i = t.begin; i < t.end; ++i) sum += static_cast<unsigned char>(bytes[i]);
    (void)sum;
  };
  out.push_back(safetensors);

  Target lf;
  lf.name = "wikisql_prediction";
  lf.seeds = {"select count player from table where no. = 3 and position = guard",
              "select player from table where Col1 Cond0 3 and Col3 Cond2 guard", "select max no. from table"};
  lf.run = [](std::string_view prediction) {
    const std::vector<std::string> header = {"Player", "No.", "Nationality", "Position"};
    metrics::parse_logical_form(prediction, header);
    metrics::logical_form_record(prediction, header);
  };
  out.push_back(lf);

  Target text_metrics;
  text_metrics.name = "metrics";
  text_metrics.seeds = {"the cat sat on the mat . it was happy", "a b c d e f"};
  text_metrics.run = [](std::string_view text) {
    const std::string s(text);
    const std::vector<std::string> p = {s};
    const metrics::Golds g = {{"the cat sat on the mat", s}};
    metrics::normalized_f1(p, g);
    metrics::corpus_bleu(p, {"the cat sat on the mat"});
    metrics::rouge(p, g);
  };
  out.push_back(text_metrics);

  // The tokenizer must give back any text exactly: a difference is a finding.
  Target tok;
  tok.name = "tokenizer";
  tok.seeds = {"The house of Lisbon (1870) was designed by Anna.", "a  b\t\tc \xe2\x96\x81x\xee\x80\x80 y",
               "price range: cheap, area: east; phone, postcode"};
  std::vector<std::string> texts;
  for (const auto& name : decathlon_tasks())
    for (const auto& ex : find_task(name, root)->read(root, Split::Train)) texts.push_back(ex.context);
  TokenizerOptions options;
  options.vocab_size = 400;
  Tokenizer::train(texts, options, work_dir / "fuzz-tokenizer.model", 1);
  std::shared_ptr<const Tokenizer> tokenizer = Tokenizer::load(work_dir / "fuzz-tokenizer.model");
  tok.run = [tokenizer](std::string_view text) {
    const auto tokens = text::revtok_tokenize(text);
    if (text::revtok_detokenize(tokens) != text || text::revtok_count(text) != tokens.size())
      throw std::logic_error("revtok does not round-trip");
    std::vector<uint32_t> ends;
    const auto ids = tokenizer->encode(text, &ends);
    if (tokenizer->decode(ids) != text::lower(text)) throw std::logic_error("the tokenizer does not round-trip");
    if (ends.size() != text::revtok_count(text::lower(text))) throw std::logic_error("word ends differ from revtok");
  };
  out.push_back(tok);
  return out;
}

}  // namespace deca::fuzz
