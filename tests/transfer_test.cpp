// Adapting a trained model: --init-from (weights and tokenizer of a checkpoint,
// a new config), frozen parts, per-part learning rates, the recorded origin.
#include <cmath>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/infer/checkpoint.h"
#include "deca/model/model.h"
#include "deca/model/safetensors.h"
#include "deca/train/trainer.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

deca::Config small_config(const fs::path& output, const std::vector<std::string>& tasks, long steps) {
  auto patch = nlohmann::json::parse(R"({
    "training": {"lr_schedule": "constant", "lr": 0.003, "warmup": null, "save_every": 100, "keep_last": 1, "seed": 5}
  })");
  patch["curriculum"] = {{{"tasks", tasks}}};
  patch["training"]["steps"] = steps;
  return deca::testing::tiny_config(output, patch);
}

std::map<std::string, torch::Tensor> weights(const fs::path& checkpoint) {
  return deca::model::read_safetensors(checkpoint / "model.safetensors");
}

class Transfer : public ::testing::Test {
 protected:
  void SetUp() override {
    // The pretrained run: two tasks, 4 steps.
    deca::Trainer t(small_config(dir_ / "pretrained", {"squad", "sst"}, 4), {});
    ASSERT_EQ(t.run(), 0);
  }
  deca::TrainerOptions init_from(const fs::path& from) {
    deca::TrainerOptions o;
    o.init_from = from;
    return o;
  }
  deca::testing::TempDir tmp_{"deca-transfer"};
  const fs::path& dir_ = tmp_.path();
};

}  // namespace

TEST_F(Transfer, StartsFromTheCheckpointWithFrozenPartsBitIdentical) {
  auto c = small_config(dir_ / "finetuned", {"woz.en"}, 3);
  c.model.freeze = {"embeddings", "encoder"};
  c.training.lr_scales = {{"output", 0.5}};
  deca::Trainer t(c, init_from(dir_ / "pretrained"));  // a run folder: its last checkpoint (no validation, no best)
  ASSERT_EQ(t.run(), 0);
  const auto before = weights(dir_ / "pretrained" / "checkpoints" / "last");
  const auto after = weights(dir_ / "finetuned" / "checkpoints" / "last");
  long frozen = 0, trained = 0;
  for (const auto& [name, w] : before) {
    const std::string part = deca::model::part_of(name);
    if (part == "embeddings" || part == "encoder") {
      EXPECT_TRUE(torch::equal(w, after.at(name))) << name << " is frozen but changed";
      ++frozen;
    } else if (!torch::equal(w, after.at(name))) {
      ++trained;
    }
  }
  EXPECT_GT(frozen, 10);
  EXPECT_GT(trained, 5);
  // The pretrained run's tokenizer, and where the run started.
  EXPECT_EQ(deca::read_file(dir_ / "finetuned" / "tokenizer.model"),
            deca::read_file(dir_ / "pretrained" / "tokenizer.model"));
  const auto origin = nlohmann::json::parse(deca::read_file(dir_ / "finetuned" / "init_from.json"));
  EXPECT_EQ(origin["step"], 4);
  EXPECT_EQ(origin["trained_tasks"], nlohmann::json({"squad", "sst"}));
  EXPECT_EQ(origin["checkpoint"], fs::canonical(dir_ / "pretrained" / "checkpoints" / "step-00000004").string());
  const auto state = deca::read_trainer_state(dir_ / "finetuned" / "checkpoints" / "last");
  EXPECT_EQ(state["trained_tasks"], nlohmann::json({"woz.en", "squad", "sst"}));
  EXPECT_EQ(state["init_from"]["step"], 4);
}

TEST_F(Transfer, WithoutFreezingEveryPartLearnsAndTheFirstLossIsThePretrainedOnes) {
  // Training on the same tasks from the checkpoint starts where the pretrained
  // run ended, far below a fresh model's first loss.
  deca::Trainer fresh(small_config(dir_ / "fresh", {"squad", "sst"}, 1), {});
  ASSERT_EQ(fresh.run(), 0);
  deca::Trainer t(small_config(dir_ / "continued", {"squad", "sst"}, 1),
                  init_from(dir_ / "pretrained" / "checkpoints" / "last"));
  ASSERT_EQ(t.run(), 0);
  auto first_loss = [](const fs::path& run) {
    double loss = std::nan("");
    deca::for_each_line(run / "metrics.jsonl", [&](std::string_view line, long) {
      const auto j = nlohmann::json::parse(line);
      if (std::isnan(loss) && j["type"] == "train") loss = j["loss"].get<double>();
    });
    return loss;
  };
  EXPECT_LT(first_loss(dir_ / "continued"), first_loss(dir_ / "fresh") - 0.5);
}

// The architecture keys a config leaves to the defaults come from the
// checkpoint (here all seven: the run's config.json records the checkpoint's).
TEST_F(Transfer, TheArchitectureComesFromTheCheckpointUnlessTheConfigSetsIt) {
  auto c = small_config(dir_ / "defaults", {"sst"}, 2);
  c.model = deca::ModelOptions{};  // dimension 200, ...: what a config without a model section gives
  c.model.dropout = 0.1;           // not architecture: the config's stays
  deca::Trainer t(c, init_from(dir_ / "pretrained"));
  ASSERT_EQ(t.run(), 0);
  const auto run = deca::load_config(dir_ / "defaults" / "config.json");
  const auto pretrained = deca::load_config(dir_ / "pretrained" / "config.json");
  EXPECT_EQ(run.model.dimension, 32);
  EXPECT_EQ(run.model.transformer_hidden, pretrained.model.transformer_hidden);
  EXPECT_EQ(run.model.embedding_dim, pretrained.model.embedding_dim);
  EXPECT_DOUBLE_EQ(run.model.dropout, 0.1);
}

// A key the config does set must match the checkpoint.
TEST_F(Transfer, ArchitectureMismatchNamesTheParameterAndBothShapes) {
  auto c = small_config(dir_ / "wider", {"sst"}, 2);
  c.model.transformer_hidden = 48;
  auto options = init_from(dir_ / "pretrained");
  options.config_keys = {"model.transformer_hidden"};
  try {
    deca::Trainer t(c, options);
    FAIL() << "started from a checkpoint of another architecture";
  } catch (const deca::ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("--init-from"), std::string::npos) << msg;
    // A tensor of a transformer feed-forward block, its stored and expected shapes.
    EXPECT_NE(msg.find("feedforward"), std::string::npos) << msg;
    EXPECT_NE(msg.find("has shape [32"), std::string::npos) << msg;
    EXPECT_NE(msg.find("the model expects [48"), std::string::npos) << msg;
  }
  // Nothing of it stays in the run folder.
  EXPECT_FALSE(fs::exists(dir_ / "wider" / "config.json"));
  EXPECT_FALSE(fs::exists(dir_ / "wider" / "tokenizer.model"));
}

TEST_F(Transfer, BadOptionsAreRefusedWithTheReason) {
  auto c = small_config(dir_ / "bad", {"sst"}, 2);
  c.model.freeze = {"encoderr"};
  auto msg = deca::testing::what_of([&] { deca::Trainer t(c, init_from(dir_ / "pretrained")); });
  EXPECT_NE(msg.find("model.freeze"), std::string::npos) << msg;
  EXPECT_NE(msg.find("encoderr"), std::string::npos) << msg;
  EXPECT_NE(msg.find("coattention_proj"), std::string::npos) << msg;  // the known names are listed
  c.model.freeze = {};
  msg = deca::testing::what_of([&] { deca::Trainer t(c, init_from(dir_ / "nowhere")); });
  EXPECT_NE(msg.find("no checkpoint at"), std::string::npos) << msg;
  deca::TrainerOptions both = init_from(dir_ / "pretrained");
  both.resume = true;
  msg = deca::testing::what_of([&] { deca::Trainer t(c, both); });
  EXPECT_NE(msg.find("--resume"), std::string::npos) << msg;
}
