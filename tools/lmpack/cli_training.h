// The options every training command shares (`train`, `distill`): they fill
// a TrainingOptions (train/training_loop.h); the per-step lines and the
// final report are printed the same way too.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "train/training_loop.h"

namespace lmpack::cli {

struct TrainingCli {
  TrainingOptions* options = nullptr;
  bool json = false;
  int64_t log_every = 10;
  int64_t warmup = -1;  // -1: not given
  std::string activation_memory;  // "": no bound
};

// Adds --data ... --resume, --log-every and --json, bound to *cli (which
// must outlive the parse and the run). --data is required unless the
// command makes its text otherwise.
void add_training_options(CLI::App* app, TrainingCli& cli, bool data_required = true);
// Library field -> flag, for Command::flags.
std::map<std::string, std::string> training_flags();
// Before the run: copies what needs it (--warmup) into the options.
void finish_training_options(TrainingCli& cli);
// A line every --log-every steps, or one JSON object per step with --json.
std::function<void(const TrainStepLog&)> training_step_printer(const TrainingCli& cli);
// The run's summary (one JSON object with --json); `what` names the job.
void print_training_report(const TrainingCli& cli, const TrainReport& report, const std::string& what);

}  // namespace lmpack::cli
