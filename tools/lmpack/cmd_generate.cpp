// `lmpack generate MODEL -p TEXT [-n N] [--temp T] [--top-p P] [--seed S]`:
// fills a GenerateRequest (eval/generate_job.h) and prints the prompt and its
// continuation on stdout as pieces come (greedy unless --temp > 0), then the
// prompt and generation speeds and peak RSS on stderr.
#include <cstdio>
#include <string>

#include "cli_common.h"
#include "eval/generate_job.h"

namespace lmpack::cli {

Command add_generate_command(CLI::App& parent) {
  auto r = std::make_shared<GenerateRequest>();
  Command cmd;
  CLI::App* app = parent.add_subcommand("generate", "Continue a prompt");
  cmd.app = app;
  cmd.flags = {{"max_new_tokens", "-n"}, {"temperature", "--temp"}, {"top_p", "--top-p"}};
  app->add_option("MODEL", r->model, "Model (GGUF, llama2.c .bin, Hugging Face folder)")->required();
  app->add_option("-p,--prompt", r->prompt, "Prompt text")->required();
  app->add_option("-n,--n-predict", r->max_new_tokens, "Tokens to generate (default 64)");
  app->add_option("--temp", r->temperature, "Sampling temperature (default: greedy)");
  app->add_option("--top-p", r->top_p, "Nucleus sampling mass in (0, 1] when sampling");
  app->add_option("--seed", r->seed, "Sampling seed");
  app->add_option("--tokenizer", r->tokenizer, "Vocabulary from elsewhere");
  app->add_flag("--reference", r->reference, "Use the slow reference forward pass");
  cmd.run = [r] {
    r->echo_prompt = true;
    const GenerateReport report = run_generate_job(*r, [](std::string_view piece) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    });
    std::fputs("\n", stdout);
    std::fflush(stdout);
    const GenerateStats& s = report.stats;
    std::fprintf(stderr, "prompt: %lld tokens, %.1f tokens/s; generation: %lld tokens, %.1f tokens/s; peak RSS %s\n",
                 static_cast<long long>(s.prompt_tokens), s.prompt_tokens_per_s,
                 static_cast<long long>(s.generated_tokens), s.generation_tokens_per_s,
                 format_bytes(report.peak_rss_bytes).c_str());
  };
  return cmd;
}

}  // namespace lmpack::cli
