// deca-train: multitask training from a JSON config.
//   deca-train --config FILE [--set key=value ...] [--data-root DIR] [--output DIR]
//              [--steps N] [--device cpu|cuda|cuda:N] [--threads N] [--resume | --overwrite] [--init-from CHECKPOINT]
//              [--print-config]
//              [--rank R --world-size N --local-rank L --master-addr HOST --master-port P]
//              [--dist-backend auto|gloo|nccl] [--dist-timeout SECONDS]
// Several processes train one model when launched by torchrun or srun (their
// environment variables say where each stands) or given the options above.
#include <cmath>
#include <iostream>

#include "app_common.h"
#include "deca/core/io.h"
#include "deca/core/launch.h"
#include "deca/train/trainer.h"

namespace {

// Seconds of "3600", "90s", "90m", "2h", "1h30m", "1:30:00" or "30:00".
double parse_duration(const std::string& text) {
  const auto bad = [&] {
    return deca::ConfigError("--max-time " + text + ": expected seconds or a duration such as 90m, 2h, 1h30m, 1:30:00");
  };
  double total = 0;
  if (text.find(':') != std::string::npos) {
    size_t start = 0;
    int parts = 0;
    while (true) {
      const size_t colon = text.find(':', start);
      const std::string part = text.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
      if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos || ++parts > 3) throw bad();
      total = total * 60 + std::stod(part);
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    if (parts < 2) throw bad();
  } else {
    size_t pos = 0;
    while (pos < text.size()) {
      size_t used = 0;
      double value = 0;
      try {
        value = std::stod(text.substr(pos), &used);
      } catch (const std::exception&) {
        throw bad();
      }
      pos += used;
      const char unit = pos < text.size() ? text[pos++] : 's';
      if (!(value >= 0) || (unit != 's' && unit != 'm' && unit != 'h')) throw bad();
      total += value * (unit == 'h' ? 3600 : unit == 'm' ? 60 : 1);
    }
  }
  if (!(total > 0) || !std::isfinite(total)) throw bad();
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"deca-train: train MQAN (or the S2S baseline) on a mix of decathlon tasks"};
  std::string config_file, data_root, output, device;
  std::vector<std::string> sets;
  long steps = -1;
  bool resume = false, overwrite = false, print_config = false, help_config = false, verbose = false;
  cli.add_option("--config", config_file, "JSON config (see configs/)")->check(CLI::ExistingFile);
  cli.add_option("--set", sets, "override a config key: --set training.lr=0.001 (repeatable)");
  cli.add_option("--data-root", data_root, "folder with the tasks' original files (data.data_root)");
  cli.add_option("--output", output, "the run folder (output)");
  auto* steps_option =
      cli.add_option("--steps", steps, "total optimizer steps (training.steps)")->check(deca::app::at_least(0));
  cli.add_option("--device", device, "cpu, cuda or cuda:N (training.device)");
  std::string max_time;
  cli.add_option("--max-time", max_time,
                 "wall-clock limit of this process: 3600, 90m, 2h, 1h30m or 1:30:00; before a step would pass it "
                 "the run saves and exits 0, to be continued with --resume (training.max_time)");
  long threads = 0;
  cli.add_option("--threads", threads,
                 "CPU threads per process (training.threads; default: OMP_NUM_THREADS, else the CPUs "
                 "this process may use, shared by the run's processes on the machine)")
      ->check(deca::app::at_least(1));
  cli.add_flag("--resume", resume, "continue the run in --output from its newest complete checkpoint, exactly");
  cli.add_flag(
      "--overwrite", overwrite,
      "start a new run in an --output that holds an earlier one (deleted once the new run has saved a checkpoint)");
  std::string init_from;
  cli.add_option(
      "--init-from", init_from,
      "start a new run from a checkpoint's weights and tokenizer (a checkpoint folder, or a run folder: its best); "
      "new config, fresh optimizer");
  cli.add_flag("--print-config", print_config, "print the resolved config and exit");
  cli.add_flag("--help-config", help_config, "print every config key with its type, default and meaning, and exit");
  cli.add_flag("-v,--verbose", verbose, "debug logging");
  // Distributed training: these override the launcher's environment.
  int rank = -1, world_size = -1, local_rank = -1, local_world_size = -1, master_port = -1;
  std::string master_addr;
  deca::DistOptions dist;
  const char* group = "Distributed training (default: torchrun's or SLURM's environment, else one process)";
  cli.add_option("--rank", rank, "this process's rank (RANK, SLURM_PROCID)")
      ->group(group)
      ->check(deca::app::at_least(0));
  cli.add_option("--world-size", world_size, "number of processes (WORLD_SIZE, SLURM_NTASKS)")
      ->group(group)
      ->check(deca::app::at_least(1));
  cli.add_option("--local-rank", local_rank, "rank on this machine, the GPU it uses (LOCAL_RANK, SLURM_LOCALID)")
      ->group(group)
      ->check(deca::app::at_least(0));
  cli.add_option("--local-world-size", local_world_size,
                 "processes on this machine, which share its cores (LOCAL_WORLD_SIZE)")
      ->group(group)
      ->check(deca::app::at_least(1));
  cli.add_option("--master-addr", master_addr, "host of rank 0 (MASTER_ADDR)")->group(group);
  cli.add_option("--master-port", master_port, "port of rank 0's rendezvous (MASTER_PORT, default 29500)")
      ->group(group)
      ->check(CLI::Range(1, 65535));
  cli.add_option("--dist-backend", dist.backend, "auto (nccl on CUDA, gloo on the CPU), gloo or nccl")
      ->group(group)
      ->check(CLI::IsMember({"auto", "gloo", "nccl"}));
  cli.add_option("--dist-timeout", dist.timeout_seconds,
                 "seconds a process waits for the others before it gives up (default 600)")
      ->group(group)
      ->check(CLI::PositiveNumber);
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
    if (threads > 0) sets.push_back("training.threads=" + std::to_string(threads));
    if (!max_time.empty()) sets.push_back("training.max_time=" + nlohmann::json(parse_duration(max_time)).dump());
    config = deca::apply_overrides(config, sets);
    if (print_config) {
      std::cout << deca::config_to_json(config).dump(2) << std::endl;
      return 0;
    }
    deca::TrainerOptions options;
    options.resume = resume;
    for (const auto& assignment : sets) options.set_keys.push_back(assignment.substr(0, assignment.find('=')));
    options.overwrite = overwrite;
    options.init_from = init_from;
    if (!init_from.empty() && !config_file.empty()) options.config_keys = deca::config_file_keys(config_file);
    if (resume && overwrite) throw deca::ConfigError("--resume and --overwrite exclude each other");
    if (resume && !init_from.empty())
      throw deca::ConfigError(
          "--init-from starts a new run, --resume continues one (it already holds the weights): use one of them");
    auto& launch = options.launch = deca::launch_from_environment();
    if (rank >= 0) launch.rank = rank;
    if (world_size > 0) launch.world_size = world_size;
    if (local_world_size > 0) launch.local_world_size = local_world_size;
    if (local_rank >= 0)
      launch.local_rank = local_rank;
    else if (rank >= 0)
      launch.local_rank = launch.rank % launch.local_world_size;
    if (!master_addr.empty()) launch.master_addr = master_addr;
    if (master_port > 0) launch.master_port = master_port;
    if (launch.rank >= launch.world_size || launch.local_world_size > launch.world_size ||
        launch.local_rank >= launch.local_world_size)
      throw deca::ConfigError("--rank " + std::to_string(launch.rank) + ", --world-size " +
                              std::to_string(launch.world_size) + ", --local-rank " +
                              std::to_string(launch.local_rank) + ", --local-world-size " +
                              std::to_string(launch.local_world_size) +
                              ": expected rank < world size and local rank < local world size <= world size");
    options.dist = dist;
    if (launch.rank > 0) deca::log::set_rank(launch.rank);
    deca::Trainer trainer(config, options);
    return trainer.run();
  });
}
