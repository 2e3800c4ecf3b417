// `lmpack train (--config JSON | --like MODEL | --model MODEL) --data FILE...
// -o OUT`: fills a TrainRequest (train/train_job.h) and prints the steps and
// the summary (cli_training.h).
#include <string>

#include "cli_common.h"
#include "cli_training.h"
#include "train/train_job.h"

namespace lmpack::cli {

Command add_train_command(CLI::App& parent) {
  auto r = std::make_shared<TrainRequest>();
  auto cli = std::make_shared<TrainingCli>();
  cli->options = &r->training;
  Command cmd;
  cmd.app = parent.add_subcommand("train", "Train a Llama-family model on text (from scratch or from a checkpoint)");
  cmd.flags = training_flags();
  cmd.flags.insert({{"model", "--model"}, {"like", "--like"}, {"config", "--config"}});
  CLI::App* app = cmd.app;
  app->add_option("--config", r->config, "A fresh model from this Hugging Face config.json (needs --tokenizer)");
  app->add_option("--like", r->like, "A fresh model of this model's shape and vocabulary");
  app->add_option("--model", r->model, "Continue training this model's weights");
  app->add_option("--tokenizer", r->tokenizer, "Vocabulary (default: the model's own)");
  add_training_options(app, *cli);
  cmd.run = [r, cli] {
    finish_training_options(*cli);
    print_training_report(*cli, run_train_job(*r, training_step_printer(*cli)), "trained");
  };
  return cmd;
}

}  // namespace lmpack::cli
