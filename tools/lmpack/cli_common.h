// Pieces every lmpack subcommand shares: how a command plugs into main, option
// validation that names the option and the bad value, and byte counts for
// people. Loading a model and its vocabulary is the library's
// (model/load_model.h).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>


namespace lmpack::cli {

// A registered subcommand: main runs `run` when `app` was the one parsed.
// `threads` is the command's own -t (0 when not given). A library error's
// field is shown as this command's flag (cli_errors.h): `flags` first, then
// the table every command shares. The flags of a `flat_steps` command
// (quantize, prune) fill the steps of a compression request, so a leading
// "steps[N]." is taken off first.
struct Command {
  CLI::App* app = nullptr;
  std::function<void()> run;
  std::shared_ptr<int> threads = std::make_shared<int>(0);
  std::map<std::string, std::string> flags;
  bool flat_steps = false;
};

Command add_info_command(CLI::App& parent);
Command add_tokenize_command(CLI::App& parent);
Command add_generate_command(CLI::App& parent);
Command add_eval_command(CLI::App& parent);
Command add_convert_command(CLI::App& parent);
Command add_quantize_command(CLI::App& parent);
Command add_random_model_command(CLI::App& parent);
Command add_imatrix_command(CLI::App& parent);
Command add_prune_command(CLI::App& parent);
Command add_compress_command(CLI::App& parent);
Command add_train_command(CLI::App& parent);
Command add_distill_command(CLI::App& parent);
Command add_sweep_command(CLI::App& parent);
Command add_demo_command(CLI::App& parent);

// Adds "-t,--threads N" bound to *command.threads.
void add_threads_option(Command& command);

// Throws Error("<option>", "<path>: no such file or directory") (or
// Error(path, ...) when option_or_path is the path itself).
void require_existing_path(const std::string& option_or_path, const std::string& path);

// Human-readable byte count: "1.23 MiB".
std::string format_bytes(int64_t bytes);

}  // namespace lmpack::cli
