// `lmpack train (--config JSON | --like MODEL | --model MODEL) --data FILE...
// -o OUT`: fills a TrainRequest (train/train_job.h), prints a line every
// --log-every steps (or one JSON object per step with --json) and the summary.
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "train/train_job.h"

namespace lmpack::cli {

Command add_train_command(CLI::App& parent) {
  auto r = std::make_shared<TrainRequest>();
  auto json = std::make_shared<bool>(false);
  auto log_every = std::make_shared<int64_t>(10);
  auto warmup = std::make_shared<int64_t>(-1);
  Command cmd;
  cmd.app = parent.add_subcommand("train", "Train a Llama-family model on text (from scratch or from a checkpoint)");
  cmd.flags = {{"model", "--model"},           {"like", "--like"},         {"config", "--config"},
               {"data", "--data"},             {"batch", "--batch"},       {"seq", "--seq"},
               {"steps", "--steps"},           {"grad_accum", "--grad-accum"}, {"lr", "--lr"},
               {"min_lr", "--min-lr"},         {"warmup", "--warmup"},     {"clip", "--clip"},
               {"beta1", "--beta1"},           {"beta2", "--beta2"},       {"eps", "--adam-eps"},
               {"weight_decay", "--weight-decay"}, {"output", "-o"},       {"output_type", "--type"},
               {"save_every", "--save-every"}, {"resume", "--resume"},     {"doc_separator", "--doc-separator"}};
  CLI::App* app = cmd.app;
  app->add_option("--config", r->config, "A fresh model from this Hugging Face config.json (needs --tokenizer)");
  app->add_option("--like", r->like, "A fresh model of this model's shape and vocabulary");
  app->add_option("--model", r->model, "Continue training this model's weights");
  app->add_option("--tokenizer", r->tokenizer, "Vocabulary (default: the model's own)");
  app->add_option("--data", r->data, "Text files to train on")->required();
  app->add_option("--doc-separator", r->doc_separator, "Documents end at this string (default <|endoftext|>; '' : none)");
  app->add_option("-o,--output", r->output, "Output: a .gguf file, else a Hugging Face folder")->required();
  app->add_option("--type", r->output_type, "Tensor type of the output: f32, f16 or bf16 (default f32)");
  app->add_option("--batch", r->batch, "Sequences per batch (default 8)");
  app->add_option("--seq", r->seq, "Tokens per sequence (default: the model's context, at most 256)");
  app->add_option("--steps", r->steps, "Optimizer steps (default 1000)");
  app->add_option("--grad-accum", r->grad_accum, "Batches per step (default 1)");
  app->add_option("--lr", r->lr, "Peak learning rate (default 1e-3)");
  app->add_option("--min-lr", r->min_lr, "Learning rate at the end of the cosine (default 1e-4)");
  app->add_option("--warmup", *warmup, "Warmup steps (default: steps / 20)");
  app->add_option("--clip", r->clip, "Maximum gradient norm (default 1; 0: none)");
  app->add_option("--beta1", r->adamw.beta1, "AdamW beta1 (default 0.9)");
  app->add_option("--beta2", r->adamw.beta2, "AdamW beta2 (default 0.95)");
  app->add_option("--adam-eps", r->adamw.eps, "AdamW epsilon (default 1e-8)");
  app->add_option("--weight-decay", r->adamw.weight_decay, "AdamW decoupled weight decay on matrices (default 0.1)");
  app->add_option("--seed", r->seed, "Seed of the initialisation and of the batches (default 0)");
  app->add_option("--state", r->state, "Training state file for --resume (default OUT.train-state)");
  app->add_option("--save-every", r->save_every, "Write the model and the state every N steps (default: at the end)");
  app->add_flag("--resume", r->resume, "Continue from the state file (same options: the run continues bit for bit)");
  app->add_option("--log-every", *log_every, "Print a line every N steps (default 10; 0: none)");
  app->add_flag("--json", *json, "One JSON object per step, then one for the run, on stdout");
  cmd.run = [r, json, log_every, warmup] {
    if (*warmup >= 0) r->warmup = *warmup;
    r->show_progress = true;
    const TrainReport report = run_train_job(*r, [&](const TrainStepLog& s) {
      if (*json) {
        nlohmann::json j{{"step", s.step}, {"loss", s.loss}, {"lr", s.lr}, {"grad_norm", s.grad_norm},
                         {"tokens_per_s", s.tokens_per_s}, {"seconds", s.seconds}};
        std::printf("%s\n", j.dump().c_str());
      } else if (*log_every > 0 && (s.step % *log_every == 0 || s.step == r->steps)) {
        std::printf("step %lld/%lld  loss %.4f  lr %.3g  grad norm %.3f  %.0f tok/s  %.0f s\n",
                    static_cast<long long>(s.step), static_cast<long long>(r->steps), s.loss, s.lr, s.grad_norm,
                    s.tokens_per_s, s.seconds);
      } else {
        return;
      }
      std::fflush(stdout);
    });
    if (*json) {
      nlohmann::json j{{"output", report.output},          {"state", report.state},
                       {"parameters", report.parameters},  {"data_tokens", report.data_tokens},
                       {"first_step", report.first_step},  {"steps", report.steps},
                       {"tokens_trained", report.tokens_trained}, {"final_loss", report.final_loss},
                       {"seconds", report.seconds},        {"tokens_per_s", report.tokens_per_s},
                       {"peak_rss_bytes", report.peak_rss_bytes}, {"activation_bytes", report.activation_bytes}};
      std::printf("%s\n", j.dump().c_str());
      return;
    }
    std::printf("trained %lld parameters on %lld tokens (%lld steps%s, text of %lld tokens): loss %.4f, "
                "%.0f tok/s, %.1f s, peak RSS %s (activations %s)\n",
                static_cast<long long>(report.parameters), static_cast<long long>(report.tokens_trained),
                static_cast<long long>(report.steps - report.first_step),
                report.first_step > 0 ? (" from step " + std::to_string(report.first_step)).c_str() : "",
                static_cast<long long>(report.data_tokens), report.final_loss, report.tokens_per_s, report.seconds,
                format_bytes(report.peak_rss_bytes).c_str(),
                format_bytes(static_cast<int64_t>(report.activation_bytes)).c_str());
    std::printf("wrote %s and %s\n", report.output.c_str(), report.state.c_str());
  };
  return cmd;
}

}  // namespace lmpack::cli
