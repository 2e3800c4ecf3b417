// lmpack: the command-line tool. Parses options, builds a request, calls the
// library. The only place that catches lmpack::Error (and std::exception):
// every failure becomes one line "lmpack: <message>" on stderr and exit 1; an
// interrupt (SIGINT, SIGTERM, SIGHUP) one line and exit 128 + signal
// (core/interrupt.h), with no output or temporary left.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cli_common.h"
#include "cli_errors.h"
#include "core/error.h"
#include "core/interrupt.h"
#include "core/parallel.h"
#include "core/process_memory.h"

namespace {

int fail(const std::string& message) {
  std::string line = message;
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  std::fflush(stdout);
  std::fprintf(stderr, "lmpack: %s\n", line.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace lmpack;
  install_interrupt_handler();  // first: before any thread exists
  keep_freed_memory();          // big per-layer buffers reuse the heap instead of fresh pages

  CLI::App app{"lmpack: load, run, evaluate and compress Llama-family models on a CPU", "lmpack"};
  app.require_subcommand(1);
  int global_threads = 0;
  app.add_option("-t,--threads", global_threads, "Threads for every command (default: all)");

  std::vector<cli::Command> commands;
  try {
    commands.push_back(cli::add_info_command(app));
    commands.push_back(cli::add_tokenize_command(app));
    commands.push_back(cli::add_generate_command(app));
    commands.push_back(cli::add_eval_command(app));
    commands.push_back(cli::add_convert_command(app));
    commands.push_back(cli::add_quantize_command(app));
    commands.push_back(cli::add_random_model_command(app));
    commands.push_back(cli::add_imatrix_command(app));
    commands.push_back(cli::add_prune_command(app));
    commands.push_back(cli::add_compress_command(app));
    commands.push_back(cli::add_train_command(app));
    commands.push_back(cli::add_distill_command(app));
    commands.push_back(cli::add_sweep_command(app));
    commands.push_back(cli::add_demo_command(app));
    for (cli::Command& c : commands) cli::add_threads_option(c);
  } catch (const std::exception& e) {
    return fail(cat("internal error while setting up options: ", e.what()));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (app.get_subcommands().empty()) {
      // CLI11 only says "A subcommand is required"; name the word it did not know.
      std::string known;  // from the registered commands, so the list never goes stale
      for (size_t i = 0; i < commands.size(); ++i)
        known += cat(i == 0 ? "" : i + 1 == commands.size() ? " or " : ", ", commands[i].app->get_name());
      for (const std::string& word : app.remaining())
        if (!word.empty() && word[0] != '-') return fail(cat(word, ": unknown command (expected ", known, ")"));
    }
    return fail(e.what());
  }

  const cli::Command* running = nullptr;
  try {
    for (cli::Command& c : commands) {
      if (!c.app->parsed()) continue;
      running = &c;
      int threads = *c.threads != 0 ? *c.threads : global_threads;
      if (threads < 0) throw Error("-t", cat("must be >= 0 (0: all hardware threads), got ", threads));
      const int used = set_num_threads(threads);
      if (threads > used)
        std::fprintf(stderr, "lmpack: -t %d: this machine has %d hardware threads; using %d\n", threads,
                     hardware_threads(), used);
      c.run();
      std::fflush(stdout);
      return 0;
    }
    return fail("no command given (try --help)");
  } catch (const Error& e) {
    if (interrupt_requested()) exit_interrupted();
    return fail(cli::message_for_user(e, running));
  } catch (const std::exception& e) {
    if (interrupt_requested()) exit_interrupted();
    return fail(cat("unexpected error: ", e.what()));
  }
}
