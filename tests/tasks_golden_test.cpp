// The readers reproduce the triples decaNLP's own loaders produce from the
// shared real data (shared/golden/triples), and its split sizes.
#include <fstream>

#include "deca/tasks/task.h"
#include "test_support.h"

using nlohmann::json;

namespace {

struct GoldenSplit {
  std::string task, split;
};

// How ctest names the cases: "squad/train", not a byte dump.
void PrintTo(const GoldenSplit& s, std::ostream* os) { *os << s.task << "/" << s.split; }

std::vector<GoldenSplit> golden_splits() {
  std::vector<GoldenSplit> out;
  for (const auto& t : deca::decathlon_tasks())
    for (const char* s : {"train", "validation", "test"}) out.push_back({t, s});
  return out;
}

class GoldenTriples : public ::testing::TestWithParam<GoldenSplit> {};

TEST_P(GoldenTriples, ReaderMatchesDecaNLP) {
  const auto& p = GetParam();
  DECA_REQUIRE_SHARED("golden/triples/COUNTS.json");
  const auto counts = deca::testing::load_json(shared_root / "golden/triples/COUNTS.json");
  const auto task = deca::find_task(p.task, shared_root / "data");
  const deca::Split split = deca::parse_split(p.split);
  if (!counts[p.task].contains(p.split)) {
    EXPECT_FALSE(task->has_split(split)) << p.task << " should have no " << p.split << " split";
    return;
  }
  const auto examples = task->read(shared_root / "data", split);
  ASSERT_EQ(examples.size(), counts[p.task][p.split].get<size_t>()) << p.task << " " << p.split;

  std::ifstream in(shared_root / "golden/triples" / (p.task + "." + p.split + ".jsonl"));
  std::string line;
  int checked = 0;
  while (std::getline(in, line)) {
    const json g = json::parse(line);
    const size_t id = g["id"];
    ASSERT_LT(id, examples.size());
    const auto& ex = examples[id];
    const std::string where = p.task + "/" + p.split + "/" + std::to_string(id);
    EXPECT_EQ(ex.id, std::to_string(id)) << where;
    EXPECT_EQ(ex.context, g["context"].get<std::string>()) << where;
    EXPECT_EQ(ex.question, g["question"].get<std::string>()) << where;
    EXPECT_EQ(ex.answer(), g["answer"].get<std::string>()) << where;
    EXPECT_EQ(ex.answers, g["answers"].get<std::vector<std::string>>()) << where;
    for (const auto& [key, value] : g["meta"].items()) {
      if (key == "squad_id") continue;  // decaNLP's bookkeeping index, equal to `id`
      ASSERT_TRUE(ex.meta.contains(key)) << where << " meta." << key;
      EXPECT_EQ(ex.meta[key], value) << where << " meta." << key;
    }
    if (g.contains("scored_answers")) {
      EXPECT_EQ(task->scored_answers(ex), g["scored_answers"].get<std::vector<std::string>>()) << where;
    }
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

INSTANTIATE_TEST_SUITE_P(AllTasks, GoldenTriples, ::testing::ValuesIn(golden_splits()), [](const auto& info) {
  std::string n = info.param.task + "_" + info.param.split;
  for (char& c : n)
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
});

}  // namespace
