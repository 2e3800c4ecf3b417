#include "cli_training.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "core/byte_size.h"

namespace lmpack::cli {

void add_training_options(CLI::App* app, TrainingCli& cli, bool data_required) {
  TrainingOptions& o = *cli.options;
  app->add_option("--data", o.data, "Text files to train on")->required(data_required);
  app->add_option("--doc-separator", o.doc_separator, "Documents end at this string (default <|endoftext|>; '' : none)");
  app->add_option("-o,--output", o.output, "Output: a .gguf file, else a Hugging Face folder")->required();
  app->add_option("--type", o.output_type, "Tensor type of the output: f32, f16 or bf16 (default f32)");
  app->add_option("--batch", o.batch, "Sequences per batch (default 8)");
  app->add_option("--seq", o.seq, "Tokens per sequence (default: the model's context, at most 256)");
  app->add_option("--steps", o.steps, "Optimizer steps (default 1000)");
  app->add_option("--grad-accum", o.grad_accum, "Batches per step (default 1)");
  app->add_option("--lr", o.lr, "Peak learning rate (default 1e-3)");
  app->add_option("--min-lr", o.min_lr, "Learning rate at the end of the cosine (default 1e-4)");
  app->add_option("--warmup", cli.warmup, "Warmup steps (default: steps / 20)");
  app->add_option("--clip", o.clip, "Maximum gradient norm (default 1; 0: none)");
  app->add_option("--beta1", o.adamw.beta1, "AdamW beta1 (default 0.9)");
  app->add_option("--beta2", o.adamw.beta2, "AdamW beta2 (default 0.95)");
  app->add_option("--adam-eps", o.adamw.eps, "AdamW epsilon (default 1e-8)");
  app->add_option("--weight-decay", o.adamw.weight_decay, "AdamW decoupled weight decay on matrices (default 0.1)");
  app->add_option("--seed", o.seed, "Seed of the initialisation and of the batches (default 0)");
  app->add_option("--state", o.state, "Training state file for --resume (default OUT.train-state)");
  app->add_option("--save-every", o.save_every, "Write the model and the state every N steps (default: at the end)");
  app->add_option("--activation-memory", cli.activation_memory,
                  "Bound on activation memory, e.g. 512M or 2G: the blocks beyond it recompute their activations "
                  "in the backward (slower, same result; default: no bound)");
  app->add_flag("--resume", o.resume, "Continue from the state file (same options: the run continues bit for bit)");
  app->add_option("--log-every", cli.log_every, "Print a line every N steps (default 10; 0: none)");
  app->add_flag("--json", cli.json, "One JSON object per step, then one for the run, on stdout");
}

std::map<std::string, std::string> training_flags() {
  return {{"data", "--data"},         {"batch", "--batch"},
          {"seq", "--seq"},           {"steps", "--steps"},
          {"grad_accum", "--grad-accum"}, {"lr", "--lr"},
          {"min_lr", "--min-lr"},     {"warmup", "--warmup"},
          {"clip", "--clip"},         {"beta1", "--beta1"},
          {"beta2", "--beta2"},       {"eps", "--adam-eps"},
          {"weight_decay", "--weight-decay"}, {"output", "-o"},
          {"output_type", "--type"},  {"save_every", "--save-every"},
          {"resume", "--resume"},     {"doc_separator", "--doc-separator"},
          {"activation_memory", "--activation-memory"}};
}

void finish_training_options(TrainingCli& cli) {
  if (cli.warmup >= 0) cli.options->warmup = cli.warmup;
  if (!cli.activation_memory.empty())
    cli.options->activation_memory = parse_byte_size("--activation-memory", cli.activation_memory);
  cli.options->show_progress = true;
}

std::function<void(const TrainStepLog&)> training_step_printer(const TrainingCli& cli) {
  return [&cli](const TrainStepLog& s) {
    if (cli.json) {
      nlohmann::json j{{"step", s.step}, {"loss", s.loss}, {"lr", s.lr}, {"grad_norm", s.grad_norm},
                       {"tokens_per_s", s.tokens_per_s}, {"seconds", s.seconds}};
      std::printf("%s\n", j.dump().c_str());
    } else if (cli.log_every > 0 && (s.step % cli.log_every == 0 || s.step == cli.options->steps)) {
      std::printf("step %lld/%lld  loss %.4f  lr %.3g  grad norm %.3f  %.0f tok/s  %.0f s\n",
                  static_cast<long long>(s.step), static_cast<long long>(cli.options->steps), s.loss, s.lr,
                  s.grad_norm, s.tokens_per_s, s.seconds);
    } else {
      return;
    }
    std::fflush(stdout);
  };
}

void print_training_report(const TrainingCli& cli, const TrainReport& report, const std::string& what) {
  if (cli.json) {
    nlohmann::json j{{"output", report.output},          {"state", report.state},
                     {"parameters", report.parameters},  {"data_tokens", report.data_tokens},
                     {"first_step", report.first_step},  {"steps", report.steps},
                     {"tokens_trained", report.tokens_trained}, {"final_loss", report.final_loss},
                     {"seconds", report.seconds},        {"tokens_per_s", report.tokens_per_s},
                     {"peak_rss_bytes", report.peak_rss_bytes}, {"activation_bytes", report.activation_bytes},
                     {"recomputed_blocks", report.recomputed_blocks}};
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  std::printf("%s %lld parameters on %lld tokens (%lld steps%s, text of %lld tokens): loss %.4f, %.0f tok/s, %.1f s, "
              "peak RSS %s (activations %s%s)\n",
              what.c_str(), static_cast<long long>(report.parameters), static_cast<long long>(report.tokens_trained),
              static_cast<long long>(report.steps - report.first_step),
              report.first_step > 0 ? (" from step " + std::to_string(report.first_step)).c_str() : "",
              static_cast<long long>(report.data_tokens), report.final_loss, report.tokens_per_s, report.seconds,
              format_bytes(report.peak_rss_bytes).c_str(),
              format_bytes(static_cast<int64_t>(report.activation_bytes)).c_str(),
              report.recomputed_blocks > 0
                  ? (", " + std::to_string(report.recomputed_blocks) + " blocks recomputed").c_str()
                  : "");
  std::printf("wrote %s and %s\n", report.output.c_str(), report.state.c_str());
}

}  // namespace lmpack::cli
