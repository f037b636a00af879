// Each task reports decaNLP's metric dict, and the decaScore picks each task's
// metric and sums them (tests/golden/metrics/decascore.json).
#include <cmath>
#include <fstream>

#include "deca/tasks/task.h"
#include "test_support.h"

using nlohmann::json;
namespace dm = deca::metrics;

namespace {

// Gold examples in the form the golden file gives decaNLP's golds.
std::vector<deca::Example> examples_from(const std::string& task, const nlohmann::ordered_json& golds) {
  std::vector<deca::Example> out;
  for (const auto& g : golds) {
    deca::Example ex;
    ex.task = task;
    ex.id = std::to_string(out.size());
    if (task == "woz.en") {
      ex.meta["lang_dialogue_turn"] = g.at(0);
      ex.answers = {g.at(1).get<std::string>()};
    } else if (task == "wikisql") {
      ex.meta["header"] = g["table"]["header"];
      ex.meta["sql"] = g["sql"];
      ex.answers = {g["answer"].get<std::string>()};
    } else {
      ex.answers = g.get<std::vector<std::string>>();
    }
    out.push_back(std::move(ex));
  }
  return out;
}

}  // namespace

TEST(DecaScore, GoldenCases) {
  std::ifstream in(deca::testing::golden_metrics_dir() / "decascore.json");
  const auto doc = nlohmann::ordered_json::parse(in);  // keeps each metric dict's order
  ASSERT_FALSE(doc["cases"].empty());
  for (const auto& c : doc["cases"]) {
    const std::string id = c["id"];
    std::vector<std::pair<std::string, dm::MetricValues>> per_task;
    for (const auto& t : c["tasks"]) {
      const std::string name = t;
      dm::MetricValues values;
      for (const auto& [k, v] : c["task_metrics"][name].items()) values.set(k, v.get<double>());
      if (c.contains("task_inputs")) {
        // End to end: the task's own scoring gives the same dict, in the same order.
        const auto& in = c["task_inputs"][name];
        const auto computed = deca::find_task(name)->score(in["predictions"].get<std::vector<std::string>>(),
                                                           examples_from(name, in["golds"]));
        ASSERT_EQ(computed.items().size(), values.items().size()) << id << " " << name;
        for (size_t i = 0; i < values.items().size(); ++i) {
          const auto& [k, v] = values.items()[i];
          EXPECT_EQ(computed.items()[i].first, k) << id << " " << name;
          EXPECT_NEAR(computed.items()[i].second, v, 1e-9 * std::max(1.0, std::fabs(v)))
              << id << " " << name << " " << k;
        }
      }
      per_task.emplace_back(name, values);
    }
    std::vector<std::pair<std::string, double>> entries;
    const double total = deca::decascore(per_task, &entries);
    EXPECT_NEAR(total, c["expected"]["decaScore"].get<double>(), 1e-9 * std::fabs(total)) << id;
    for (const auto& [name, value] : entries)
      EXPECT_DOUBLE_EQ(value, c["expected"]["per_task"][name].get<double>()) << id << " " << name;
  }
}
