// `lmpack generate MODEL -p TEXT [-n N] [--temp T] [--top-p P] [--seed S]`:
// prints the prompt and its continuation on stdout as tokens come (greedy
// unless --temp > 0), then the prompt and generation speeds and peak RSS on
// stderr.
#include <cmath>
#include <cstdio>
#include <string>

#include "cli_common.h"
#include "core/error.h"
#include "eval/resource_usage.h"
#include "model/forward.h"
#include "model/generate.h"
#include "model/weights.h"

namespace lmpack::cli {
namespace {

struct GenerateCliOptions {
  std::string model;
  std::string tokenizer;
  std::string prompt;
  int64_t n = 64;
  float temp = 0.0f;
  float top_p = GenerateOptions{}.top_p;
  uint64_t seed = 0;
  bool reference = false;
};

}  // namespace

Command add_generate_command(CLI::App& parent) {
  auto o = std::make_shared<GenerateCliOptions>();
  Command cmd;
  CLI::App* app = parent.add_subcommand("generate", "Continue a prompt");
  cmd.app = app;
  app->add_option("MODEL", o->model, "Model (GGUF, llama2.c .bin, Hugging Face folder)")->required();
  app->add_option("-p,--prompt", o->prompt, "Prompt text")->required();
  app->add_option("-n,--n-predict", o->n, "Tokens to generate (default 64)");
  app->add_option("--temp", o->temp, "Sampling temperature (default: greedy)");
  app->add_option("--top-p", o->top_p, "Nucleus sampling mass in (0, 1] when sampling");
  app->add_option("--seed", o->seed, "Sampling seed");
  app->add_option("--tokenizer", o->tokenizer, "Vocabulary from elsewhere");
  app->add_flag("--reference", o->reference, "Use the slow reference forward pass");
  cmd.run = [o] {
    require_non_negative("-n", o->n);
    if (!(o->temp >= 0.0f) || !std::isfinite(o->temp)) throw Error("--temp", cat("must be >= 0, got ", o->temp));
    if (!(o->top_p > 0.0f && o->top_p <= 1.0f)) throw Error("--top-p", cat("must be in (0, 1], got ", o->top_p));
    Checkpoint ckpt = load_model(o->model, o->tokenizer);
    std::unique_ptr<Tokenizer> tokenizer = tokenizer_for(ckpt);
    std::shared_ptr<const ModelWeights> weights = build_weights(ckpt);
    // The KV cache and RoPE tables cover what this run can reach, not the
    // model's whole trained context (which a header may set to 2^24).
    const int64_t prompt_tokens = static_cast<int64_t>(tokenizer->encode(o->prompt, true).size());
    const int64_t ctx = generation_context(ckpt.config, prompt_tokens, o->n);
    std::unique_ptr<ForwardPass> forward =
        o->reference ? make_reference_forward(weights, ctx) : make_fast_forward(weights, ctx);

    GenerateOptions go;
    go.max_new_tokens = o->n;
    go.temperature = o->temp;
    go.top_p = o->top_p;
    go.seed = o->seed;
    std::fputs(o->prompt.c_str(), stdout);
    std::fflush(stdout);
    GenerateStats s = generate(*forward, *tokenizer, o->prompt, go, [](std::string_view piece) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    });
    std::fputs("\n", stdout);
    std::fflush(stdout);
    std::fprintf(stderr, "prompt: %lld tokens, %.1f tokens/s; generation: %lld tokens, %.1f tokens/s; peak RSS %s\n",
                 static_cast<long long>(s.prompt_tokens), s.prompt_tokens_per_s,
                 static_cast<long long>(s.generated_tokens), s.generation_tokens_per_s,
                 format_bytes(peak_rss_bytes()).c_str());
  };
  return cmd;
}

}  // namespace lmpack::cli
