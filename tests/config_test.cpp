// Configs: validation naming the key's path, overrides, round trip, shipped configs.
#include "deca/core/config.h"
#include "deca/core/error.h"
#include "test_support.h"

using nlohmann::json;

namespace {

json minimal() { return json::parse(R"({"curriculum": [{"tasks": ["squad"]}]})"); }

std::string error_of(const json& j) {
  try {
    deca::config_from_json(j);
  } catch (const deca::ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Config, DefaultsFillMissingKeys) {
  const auto c = deca::config_from_json(minimal());
  EXPECT_EQ(c.model.dimension, 200);
  EXPECT_EQ(c.training.warmup, 800);
  EXPECT_EQ(c.curriculum[0].mixing, "round_robin");
}

TEST(Config, UnknownKeyNamesItsPath) {
  json j = minimal();
  j["training"]["stpes"] = 10;
  const std::string e = error_of(j);
  EXPECT_NE(e.find("training.stpes"), std::string::npos) << e;
  EXPECT_NE(e.find("steps"), std::string::npos) << "should list the known keys: " << e;
  j = minimal();
  j["curriculum"][0]["temprature"] = 1.5;
  EXPECT_NE(error_of(j).find("curriculum.0.temprature"), std::string::npos);
}

TEST(Config, WrongTypeNamesItsPath) {
  json j = minimal();
  j["model"]["dimension"] = "200";
  const std::string e = error_of(j);
  EXPECT_NE(e.find("model.dimension"), std::string::npos) << e;
  EXPECT_NE(e.find("integer"), std::string::npos) << e;
  j = minimal();
  j["curriculum"][0]["tasks"] = "squad";
  EXPECT_NE(error_of(j).find("curriculum.0.tasks"), std::string::npos);
}

TEST(Config, SemanticChecks) {
  json j = minimal();
  j["curriculum"][0]["mixing"] = "random";
  EXPECT_NE(error_of(j).find("curriculum.0.mixing"), std::string::npos);
  j = minimal();
  j["curriculum"][0]["mixing"] = "weights";
  EXPECT_NE(error_of(j).find("curriculum.0.weights"), std::string::npos);
  j = json::parse(R"({"curriculum": [{"tasks": ["squad"]}, {"tasks": ["sst"]}]})");
  EXPECT_NE(error_of(j).find("curriculum.0.steps"), std::string::npos);
}

TEST(Config, OverridesAndRoundTrip) {
  auto c = deca::config_from_json(minimal());
  c = deca::apply_overrides(c, {"training.steps=42", "model.dropout=0.1", "output=runs/x", "curriculum.0.tasks=squad,sst",
                                "curriculum.1.tasks=[\"schema\"]", "curriculum.0.steps=5"});
  EXPECT_EQ(c.training.steps, 42);
  EXPECT_DOUBLE_EQ(c.model.dropout, 0.1);
  EXPECT_EQ(c.output, "runs/x");
  EXPECT_EQ(c.curriculum[0].tasks, (std::vector<std::string>{"squad", "sst"}));
  ASSERT_EQ(c.curriculum.size(), 2u);
  EXPECT_EQ(c.curriculum[1].tasks, std::vector<std::string>{"schema"});
  // The resolved config fed back gives the same config.
  const auto again = deca::config_from_json(json::parse(deca::config_to_json(c).dump()));
  EXPECT_EQ(deca::config_to_json(again), deca::config_to_json(c));
  EXPECT_THROW(deca::apply_overrides(c, {"training.nope=1"}), deca::ConfigError);
  EXPECT_THROW(deca::apply_overrides(c, {"training.steps"}), deca::ConfigError);
  EXPECT_THROW(deca::apply_overrides(c, {"training.steps=many"}), deca::ConfigError);
}

TEST(Config, ShippedConfigsAreValid) {
  int n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(deca::testing::source_dir() / "configs")) {
    if (e.path().extension() != ".json") continue;
    EXPECT_NO_THROW(deca::load_config(e.path())) << e.path();
    ++n;
  }
  EXPECT_GE(n, 4);
}
