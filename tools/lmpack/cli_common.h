// Pieces every lmpack subcommand shares: how a command plugs into main, option
// validation that names the option and the bad value, and loading a model or a
// vocabulary the same way everywhere (MODEL plus an optional --tokenizer).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/dtype.h"
#include "model/checkpoint.h"
#include "model/tokenizer.h"

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

// Adds "-t,--threads N" bound to *command.threads.
void add_threads_option(Command& command);

// Option checks: throw Error("<option>", "must be ..., got <value>").
void require_positive(const std::string& option, int64_t value);
void require_non_negative(const std::string& option, int64_t value);
void require_existing_path(const std::string& option_or_path, const std::string& path);

// "f32" | "f16" | "bf16" -> DType; anything else -> Error(option, ...).
DType parse_float_dtype(const std::string& option, const std::string& value);

// One line on stderr when `tokens` (the value of `option`) is longer than the
// model's trained context: positions beyond it are extrapolated, which
// llama.cpp allows too; the run goes on.
void warn_beyond_context(const std::string& option, int64_t tokens, const Checkpoint& checkpoint);

// load_checkpoint with --tokenizer applied.
Checkpoint load_model(const std::string& model, const std::string& tokenizer_path);

// The checkpoint's vocabulary as a Tokenizer; Error naming the model (and
// suggesting --tokenizer) when it has none.
std::unique_ptr<Tokenizer> tokenizer_for(const Checkpoint& checkpoint);

// A vocabulary from MODEL without loading weights' headers when it is itself
// a vocabulary file (a GGUF, vocab-only or not, a tokenizer.json, an HF
// folder); --tokenizer wins when given.
Vocab load_vocab_for(const std::string& model, const std::string& tokenizer_path);

// Human-readable byte count: "1.23 MiB".
std::string format_bytes(int64_t bytes);

}  // namespace lmpack::cli
