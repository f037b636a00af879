// deca-train: multitask training from a JSON config.
//   deca-train --config FILE [--set key=value ...] [--data-root DIR] [--output DIR]
//              [--steps N] [--device cpu|cuda|cuda:N] [--resume | --overwrite] [--print-config]
#include <iostream>

#include "app_common.h"
#include "deca/core/io.h"
#include "deca/train/trainer.h"

int main(int argc, char** argv) {
  CLI::App cli{"deca-train: train MQAN (or the S2S baseline) on a mix of decathlon tasks"};
  std::string config_file, data_root, output, device;
  std::vector<std::string> sets;
  long steps = -1;
  bool resume = false, overwrite = false, print_config = false, help_config = false, verbose = false;
  cli.add_option("--config", config_file, "JSON config (see configs/)");
  cli.add_option("--set", sets, "override a config key: --set training.lr=0.001 (repeatable)");
  cli.add_option("--data-root", data_root, "folder with the tasks' original files (data.data_root)");
  cli.add_option("--output", output, "the run folder (output)");
  auto* steps_option = cli.add_option("--steps", steps, "total optimizer steps (training.steps)")->check(deca::app::at_least(0));
  cli.add_option("--device", device, "cpu, cuda or cuda:N (training.device)");
  cli.add_flag("--resume", resume, "continue the run in --output from its newest complete checkpoint, exactly");
  cli.add_flag("--overwrite", overwrite, "start a new run in an --output that holds an earlier one (deletes its checkpoints)");
  cli.add_flag("--print-config", print_config, "print the resolved config and exit");
  cli.add_flag("--help-config", help_config, "print every config key with its type, default and meaning, and exit");
  cli.add_flag("-v,--verbose", verbose, "debug logging");
  deca::app::setup_logging(false);
  return deca::app::run(cli, argc, argv, [&] {
    if (verbose) deca::log::set_verbose(true);
    if (help_config) {
      std::cout << deca::config_help();
      return 0;
    }
    deca::Config config;
    if (resume && config_file.empty()) {
      if (output.empty()) throw deca::ConfigError("--resume needs --output (the run folder) or --config");
      config = deca::load_config(std::filesystem::path(output) / "config.json");
    } else {
      if (config_file.empty()) throw deca::ConfigError("--config is required (see configs/)");
      config = deca::load_config(config_file);
    }
    if (!data_root.empty()) sets.push_back("data.data_root=" + nlohmann::json(data_root).dump());
    if (!output.empty()) sets.push_back("output=" + nlohmann::json(output).dump());
    if (steps_option->count() > 0) sets.push_back("training.steps=" + std::to_string(steps));
    if (!device.empty()) sets.push_back("training.device=" + nlohmann::json(device).dump());
    config = deca::apply_overrides(config, sets);
    if (print_config) {
      std::cout << deca::config_to_json(config).dump(2) << std::endl;
      return 0;
    }
    deca::TrainerOptions options;
    options.resume = resume;
    options.overwrite = overwrite;
    if (resume && overwrite) throw deca::ConfigError("--resume and --overwrite exclude each other");
    deca::Trainer trainer(config, options);
    return trainer.run();
  });
}
