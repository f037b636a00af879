// Evidence that the model learns: a small MQAN overfits two training
// examples of each of the ten tasks until it reproduces their answers exactly.
// Slow (a minute or two): label "slow". One thread, so that a busy machine
// does not stall it (two OpenMP threads wait on each other when one is
// descheduled).
#include <random>

#include "deca/data/splits.h"
#include "deca/infer/checkpoint.h"
#include "deca/infer/predict.h"
#include "deca/text/unicode.h"
#include "deca/train/trainer.h"
#include "test_support.h"

namespace fs = std::filesystem;

TEST(Overfit, TenTasksToExactAnswers) {
  const fs::path dir = deca::testing::unique_temp_path("deca-overfit");
  auto j = nlohmann::json::parse(R"({
    "data": {"subsample": 2, "max_context_tokens": 120},
    "tokenizer": {"vocab_size": 800},
    "batching": {"max_tokens": 4000},
    "curriculum": [{"tasks": ["squad", "iwslt.en.de", "cnn_dailymail", "multinli.in.out", "sst", "srl", "zre",
                              "woz.en", "wikisql", "schema"]}],
    "model": {"dimension": 64, "embedding_dim": 64, "transformer_hidden": 64, "transformer_heads": 2, "dropout": 0.0},
    "training": {"steps": 2000, "lr_schedule": "linear", "lr": 0.005, "warmup": 50, "log_every": 250, "val_every": 0,
                 "save_every": 2000, "threads": 1}
  })");
  j["output"] = (dir / "run").string();
  j["data"]["data_root"] = (deca::testing::source_dir() / "data" / "sample").string();
  const auto config = deca::config_from_json(j);
  {
    deca::Trainer trainer(config, {});
    ASSERT_EQ(trainer.run(), 0);
  }
  const auto loaded = deca::load_checkpoint(dir / "run", torch::kCPU);
  long exact = 0, total = 0;
  for (const auto& name : config.all_tasks()) {
    const auto task = deca::find_task(name, config.data.data_root);
    const auto examples = deca::read_split(*task, config, deca::Split::Train);
    const auto data =
        deca::encode(examples, *loaded.predictor.tokenizer, deca::EncodeOptions::from(config.data, false));
    deca::EvalOptions greedy;
    greedy.max_tokens = 8000;
    const auto p = deca::predict_split(loaded.predictor, data, greedy);
    for (size_t i = 0; i < examples.size(); ++i) {
      const std::string gold = deca::text::lower(examples[i].answer());
      ++total;
      if (p.answers[i] == gold)
        ++exact;
      else
        ADD_FAILURE() << name << " #" << i << ": got \"" << p.answers[i] << "\", expected \"" << gold << "\"";
    }
  }
  EXPECT_EQ(exact, total);
  fs::remove_all(dir);
}
