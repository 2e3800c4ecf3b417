// `lmpack demo [MODEL] [--text FILE] [-o DIR]`: the library's demo job
// (demo/demo_job.h): with no model, a small model trained here on generated
// stories; then a short sweep; prints the table (size ratio against quality
// kept), the claims and where the report is, with the time taken.
#include <cstdio>
#include <memory>
#include <string>

#include "cli_common.h"
#include "cli_errors.h"
#include "demo/demo_job.h"

namespace lmpack::cli {

Command add_demo_command(CLI::App& parent) {
  auto r = std::make_shared<DemoRequest>();
  Command cmd;
  CLI::App* app = parent.add_subcommand(
      "demo", "Compress a model many ways and show what each costs (no model: train a small one here first)");
  cmd.app = app;
  cmd.flags = {{"output", "-o"}, {"text", "--text"}, {"train_steps", "--train-steps"}, {"model", "MODEL"},
               {"methods", "--methods"}, {"tokenizer", "--tokenizer"}};
  app->add_option("MODEL", r->model, "A model of yours (default: train the demo model on generated stories)");
  app->add_option("--text", r->text, "With MODEL: calibration and evaluation text (default: the generated stories)");
  app->add_option("--tokenizer", r->tokenizer, "With MODEL: a vocabulary from elsewhere");
  app->add_option("-o,--output", r->output, "Output folder (default lmpack-demo)");
  app->add_option("--train-steps", r->train_steps, "Training steps of the demo model (default 400)");
  app->add_option("--methods", r->methods, "The sweep's methods: rtn, imatrix, gptq (default all three)")->delimiter(',');
  app->add_flag("!--no-sweep", r->sweep, "Only make the demo model (DIR/demo-model.gguf) and its texts");
  cmd.run = [r] {
    const DemoReport d = run_demo(
        *r, [](const std::string& stage) { std::printf("== %s\n", stage.c_str()), std::fflush(stdout); },
        [](const SweepRun& run) {
          std::printf("   %-20s %6.3f bpw  KL %.5f  top-1 %6.2f%%\n", run.name.c_str(), run.bits_per_weight,
                      run.kl_mean, 100.0 * run.top1);
          std::fflush(stdout);
        });
    const SweepResults& s = d.sweep;
    if (!r->sweep) {
      std::printf("\ndemo model: %s, %lld parameters, %lld steps (%lld tokens) in %.1f s, loss %.3f -> %.3f\n",
                  d.model.c_str(), static_cast<long long>(d.parameters), static_cast<long long>(d.train_steps),
                  static_cast<long long>(d.train_tokens), d.train_seconds, d.first_loss, d.last_loss);
      return;
    }
    if (d.trained)
      std::printf("\ndemo model: %lld parameters, %lld steps (%lld tokens) in %.1f s, loss %.3f -> %.3f\n",
                  static_cast<long long>(d.parameters), static_cast<long long>(d.train_steps),
                  static_cast<long long>(d.train_tokens), d.train_seconds, d.first_loss, d.last_loss);
    std::printf("\n%s: %lld parameters, F32 %.2f MB, base perplexity %.4f on %lld tokens\n\n", d.model.c_str(),
                static_cast<long long>(s.model.parameters), f32_bytes(s.model) / 1e6, s.base_perplexity,
                static_cast<long long>(s.eval_tokens));
    std::printf("%-20s %8s %10s %12s %13s %10s %8s\n", "run", "bpw", "file MB", "x smaller", "quality kept", "KL",
                "top-1");
    for (const SweepRun& run : s.runs)
      std::printf("%-20s %8.3f %10.3f %12.2f %12.2f%% %10.5f %7.2f%%\n", run.name.c_str(), run.bits_per_weight,
                  static_cast<double>(run.file_bytes) / 1e6, f32_bytes(s.model) / static_cast<double>(run.file_bytes),
                  100.0 * quality_kept(s, run), run.kl_mean, 100.0 * run.top1);
    for (const SweepSkip& skip : s.skipped) std::printf("%-20s not run: %s\n", skip.name.c_str(), skip.reason.c_str());
    std::printf("\n");
    for (const SweepClaim& c : check_claims(s)) std::printf("claim: %s: %s\n", c.claim.c_str(), c.verdict.c_str());
    std::printf("\nreport: %s\ndemo done in %.1f s\n", d.report.c_str(), d.seconds);
  };
  return cmd;
}

}  // namespace lmpack::cli
