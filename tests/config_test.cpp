// Configs: validation naming the key's path, overrides, round trip, shipped configs.
#include <algorithm>
#include <fstream>
#include <functional>

#include "deca/core/config.h"
#include "deca/core/error.h"
#include "deca/core/suggest.h"
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

// Every value that cannot work is an error naming its key, before any work.
TEST(Config, ValuesThatCannotWorkNameTheirKey) {
  const std::vector<std::pair<std::string, json>> bad = {{"model.rnn_layers", 0},
                                                         {"model.embedding_dim", 0},
                                                         {"model.transformer_hidden", 0},
                                                         {"model.transformer_layers", 0},
                                                         {"model.max_output_length", 0},
                                                         {"model.max_output_length", -5},
                                                         {"training.lr", 0},
                                                         {"training.lr", -0.1},
                                                         {"training.beta1", 1},
                                                         {"training.beta2", 1.5},
                                                         {"training.eps", -1e-9},
                                                         {"training.grad_clip", -1},
                                                         {"training.warmup", -1},
                                                         {"training.max_bad_steps", 0},
                                                         {"training.threads", -2},
                                                         {"training.val_every", -1},
                                                         {"data.max_context_tokens", 0},
                                                         {"data.max_question_tokens", -1},
                                                         {"data.max_answer_tokens", 0},
                                                         {"data.subsample", -1},
                                                         {"tokenizer.character_coverage", 0},
                                                         {"tokenizer.max_sentences", 0},
                                                         {"training.steps", -1},
                                                         {"training.optimizer_state", "fp16"},
                                                         {"training.precision", "fp8"},
                                                         {"model.embedding_init_std", 0},
                                                         {"model.coattention_init", "zeros"}};
  for (const auto& [key, value] : bad) {
    json j = minimal();
    const auto dot = key.find('.');
    j[key.substr(0, dot)][key.substr(dot + 1)] = value;
    EXPECT_NE(error_of(j).find("\"" + key + "\""), std::string::npos)
        << key << "=" << value.dump() << ": " << error_of(j);
  }
}

TEST(Config, NonFiniteAndDuplicateValuesAreErrors) {
  json inf = minimal();
  inf["training"]["lr"] = std::numeric_limits<double>::infinity();
  EXPECT_NE(error_of(inf).find("training.lr"), std::string::npos);
  const auto c = deca::config_from_json(minimal());
  try {
    deca::apply_overrides(c, {"training.lr=1e400"});
    ADD_FAILURE() << "1e400 accepted";
  } catch (const deca::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("out of range"), std::string::npos) << e.what();
  }
  try {
    deca::parse_json_strict(R"({"training": {"lr": 0.1, "steps": 3, "lr": 0.2}})");
    ADD_FAILURE() << "duplicate key accepted";
  } catch (const deca::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("duplicate key \"training.lr\""), std::string::npos) << e.what();
  }
  // The same key in two different objects is fine.
  EXPECT_NO_THROW(deca::parse_json_strict(R"({"a": {"x": 1}, "b": {"x": 2}, "c": [{"x": 1}, {"x": 2}]})"));
}

// --help-config describes every key a resolved config has, with its default.
TEST(Config, HelpDescribesEveryKey) {
  const std::string help = deca::config_help();
  std::function<void(const json&, const std::string&)> walk = [&](const json& j, const std::string& path) {
    if (j.is_object() && !j.empty()) {
      for (const auto& [k, v] : j.items()) walk(v, path.empty() ? k : path + "." + k);
    } else if (j.is_array() && !j.empty() && j[0].is_object()) {
      EXPECT_NE(help.find("\n" + path + "  ("), std::string::npos) << path;
      walk(j[0], path + ".N");
    } else {
      EXPECT_NE(help.find(path + "  ("), std::string::npos) << path << " is not described";
    }
  };
  walk(json::parse(deca::config_to_json(deca::config_from_json(minimal())).dump()), "");
  EXPECT_NE(help.find("training.lr  (number, default 0.001)  learning rate"), std::string::npos) << help;
}

TEST(Config, OverridesAndRoundTrip) {
  auto c = deca::config_from_json(minimal());
  c = deca::apply_overrides(c,
                            {"training.steps=42", "model.dropout=0.1", "output=runs/x", "curriculum.0.tasks=squad,sst",
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

namespace {

void write(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

}  // namespace

// "base" inherits a config (relative to the file, through several levels):
// objects merge key by key, lists are replaced whole, null resets a key to
// its default; comments are allowed anywhere.
TEST(Config, ABaseIsInheritedAndOverridden) {
  deca::testing::TempDir dir("deca-config-base");
  write(dir.path() / "root.json", R"(// the root
{
  "output": "runs/root",
  "curriculum": [{"tasks": ["squad", "sst"]}],  /* two tasks */
  "model": {"dimension": 64, "transformer_heads": 2, "dropout": 0.1},
  "training": {"steps": 500, "lr": 0.002}
})");
  write(dir.path() / "mid" / "mid.json",
        R"({"base": "../root.json", "model": {"dimension": 32}, "training": {"lr": null}})");
  write(dir.path() / "mid" / "leaf.json", R"({
  "base": "mid.json",  // a base with a base
  "output": "runs/leaf",
  "curriculum": [{"tasks": ["schema"]}]
})");
  const auto c = deca::load_config(dir.path() / "mid" / "leaf.json");
  EXPECT_EQ(c.output, "runs/leaf");
  EXPECT_EQ(c.curriculum[0].tasks, std::vector<std::string>{"schema"});  // replaced, not appended
  EXPECT_EQ(c.model.dimension, 32);                                      // mid overrides root
  EXPECT_EQ(c.model.transformer_heads, 2);                               // root's, kept through mid
  EXPECT_DOUBLE_EQ(c.model.dropout, 0.1);
  EXPECT_EQ(c.training.steps, 500);
  EXPECT_DOUBLE_EQ(c.training.lr, deca::TrainOptions{}.lr);  // null: back to the default
}

TEST(Config, TheKeysAFileSetsIncludeItsBases) {
  deca::testing::TempDir dir("deca-config-keys");
  write(dir.path() / "root.json", R"({"curriculum": [{"tasks": ["squad"]}], "model": {"dimension": 64}})");
  write(dir.path() / "leaf.json", R"({"base": "root.json", "training": {"steps": 5, "lr": null}})");
  auto keys = deca::config_file_keys(dir.path() / "leaf.json");
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"curriculum", "model.dimension", "training.steps"}));
}

TEST(Config, BrokenBasesAreErrorsNamingTheFiles) {
  deca::testing::TempDir dir("deca-config-base");
  const auto error_of_file = [&](const std::string& name) {
    return deca::testing::what_of([&] { deca::load_config(dir.path() / name); });
  };
  write(dir.path() / "missing.json", R"({"base": "nowhere.json"})");
  std::string e = error_of_file("missing.json");
  EXPECT_NE(e.find("missing.json"), std::string::npos) << e;
  EXPECT_NE(e.find("nowhere.json is not a file"), std::string::npos) << e;

  write(dir.path() / "a.json", R"({"base": "b.json"})");
  write(dir.path() / "b.json", R"({"base": "./a.json"})");
  e = error_of_file("a.json");
  EXPECT_NE(e.find("a cycle"), std::string::npos) << e;

  write(dir.path() / "number.json", R"({"base": 3})");
  e = error_of_file("number.json");
  EXPECT_NE(e.find("\"base\" must be the file name"), std::string::npos) << e;

  // A mistake in the merged config names the file and its base.
  write(dir.path() / "root.json", R"({"curriculum": [{"tasks": ["squad"]}], "training": {"steps": 5}})");
  write(dir.path() / "typo.json", R"({"base": "root.json", "training": {"stpes": 5}})");
  e = error_of_file("typo.json");
  EXPECT_NE(e.find("typo.json (based on "), std::string::npos) << e;
  EXPECT_NE(e.find("root.json)"), std::string::npos) << e;
  EXPECT_NE(e.find("training.stpes"), std::string::npos) << e;

  write(dir.path() / "bad.json", "{\"curriculum\": [{\"tasks\": [\"squad\"]}]\n/* not closed");
  e = error_of_file("bad.json");
  EXPECT_NE(e.find("bad.json: invalid JSON"), std::string::npos) << e;
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

// "Did you mean": a typo (a swap counts as one edit) finds the name; a short
// or far name finds nothing.
TEST(Suggest, ATypoFindsTheNearestNameAndAStrangerNothing) {
  EXPECT_EQ(deca::edit_distance("sts", "sst"), 1u);
  EXPECT_EQ(deca::edit_distance("stpes", "steps"), 1u);
  EXPECT_EQ(deca::edit_distance("kitten", "sitting"), 3u);
  const std::vector<std::string> known = {"steps", "threads", "seed"};
  EXPECT_EQ(deca::nearest_name("stepss", known), "steps");
  EXPECT_EQ(deca::nearest_name("thread", known), "threads");
  EXPECT_EQ(deca::nearest_name("lr", known), "");
  EXPECT_EQ(deca::nearest_name("schedule", known), "");
  EXPECT_EQ(deca::did_you_mean("sed", known), " (did you mean seed?)");
  EXPECT_EQ(deca::did_you_mean("xyz", known), "");
}
