// `lmpack distill --teacher T (--student S | --student-config JSON |
// --prune-heads K --prune-ffn-width F --prune-drop-blocks N) --data FILE...
// -o OUT`: fills a DistillRequest (pipeline/distill_job.h) and prints the
// steps and the summary (cli_training.h).
#include <cstdio>
#include <string>

#include "cli_common.h"
#include "cli_training.h"
#include "pipeline/distill_job.h"

namespace lmpack::cli {

Command add_distill_command(CLI::App& parent) {
  auto r = std::make_shared<DistillRequest>();
  auto cli = std::make_shared<TrainingCli>();
  auto prune = std::make_shared<StructuredPruneOptions>();
  cli->options = &r->training;
  Command cmd;
  cmd.app = parent.add_subcommand("distill", "Train a student model on a teacher's next-token distributions");
  cmd.flags = training_flags();
  cmd.flags.insert({{"teacher", "--teacher"},
                    {"student", "--student"},
                    {"student_config", "--student-config"},
                    {"structure.heads", "--prune-heads"},
                    {"structure.ffn_width", "--prune-ffn-width"},
                    {"structure.drop_blocks", "--prune-drop-blocks"},
                    {"prune_windows", "--prune-windows"},
                    {"temperature", "--temperature"},
                    {"alpha", "--alpha"},
                    {"hidden_weight", "--hidden-weight"},
                    {"teacher_samples", "--teacher-samples"},
                    {"teacher_cache", "--teacher-cache"},
                    {"cache_top_k", "--cache-top-k"},
                    {"student_type", "--student-type"},
                    {"imatrix", "--imatrix"},
                    {"student_prune", "--prune-heads/--prune-ffn-width/--prune-drop-blocks"}});
  CLI::App* app = cmd.app;
  app->add_option("--teacher", r->teacher, "The teacher model (any format lmpack runs, quantized too)")->required();
  app->add_option("--tokenizer", r->tokenizer, "Vocabulary (default: the teacher's own)");
  app->add_option("--student", r->student, "Student: a model file whose weights training continues from");
  app->add_option("--student-config", r->student_config, "Student: a fresh model from this config.json");
  app->add_option("--prune-heads", prune->heads, "Student: the teacher less K query heads per layer");
  app->add_option("--prune-ffn-width", prune->ffn_width, "Student: the teacher with F FFN channels per layer");
  app->add_option("--prune-drop-blocks", prune->drop_blocks, "Student: the teacher less N blocks");
  app->add_option("--prune-windows", r->prune_windows, "Windows of the text that score the cut (default 32)");
  app->add_option("--temperature", r->temperature, "Softmax temperature of both distributions (default 1)");
  app->add_option("--alpha", r->alpha, "Weight of the distillation loss; 1 - alpha on cross-entropy (default 1)");
  app->add_option("--hidden-weight", r->hidden_weight,
                  "Add hidden-state matching with this weight: each student block's residual stream against the "
                  "teacher's at the matching block (same width only; default 0: none)");
  app->add_option("--teacher-cache", r->teacher_cache,
                  "Keep the teacher's top-k tokens of every batch in FILE; runs with the same teacher, text, seed, "
                  "batch and seq read them back instead of running the teacher");
  app->add_option("--cache-top-k", r->cache_top_k, "Tokens per position in the teacher cache (default 32)");
  app->add_option("--teacher-samples", r->teacher_samples,
                  "Train on N sequences sampled from the teacher instead of --data");
  app->add_option("--student-type", r->student_type,
                  "Hold the student on this GGUF type's grids while it trains (a mix such as Q2_K or Q3_K_M, or one "
                  "tensor type) and write a GGUF of that type; start from the best file of the type (--student)");
  app->add_option("--imatrix", r->imatrix, "Importance matrix for --student-type's scale search");
  add_training_options(app, *cli, false);
  cmd.run = [r, cli, prune, app] {
    if (app->count("--prune-heads") + app->count("--prune-ffn-width") + app->count("--prune-drop-blocks") > 0)
      r->student_prune = *prune;
    finish_training_options(*cli);
    const DistillReport report = run_distill_job(*r, training_step_printer(*cli));
    if (!cli->json) {
      std::printf("teacher %lld parameters, student %lld (%.1fx fewer; %s)\n",
                  static_cast<long long>(report.teacher_parameters), static_cast<long long>(report.student_parameters),
                  static_cast<double>(report.teacher_parameters) / static_cast<double>(report.student_parameters),
                  report.student_source.c_str());
      if (!report.prune_summary.empty()) std::printf("%s", report.prune_summary.c_str());
      if (!r->teacher_cache.empty())
        std::printf("teacher cache %s: %lld batches read, %lld written\n", r->teacher_cache.c_str(),
                    static_cast<long long>(report.cached_batches_read),
                    static_cast<long long>(report.cached_batches_written));
      if (!report.hidden_layers.empty())
        std::printf("hidden states matched (student block->teacher block): %s\n", report.hidden_layers.c_str());
      if (!report.student_grid.empty())
        std::printf("student held on %s grids: %s; %.1f%% of the blocks still on the student file's grid\n",
                    r->student_type.c_str(), report.student_grid.c_str(), 100.0 * report.start_grid_share);
      if (report.sampled_tokens > 0)
        std::printf("text: %lld sequences sampled from the teacher, %lld tokens\n",
                    static_cast<long long>(r->teacher_samples), static_cast<long long>(report.sampled_tokens));
    }
    for (const std::string& w : report.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    print_training_report(*cli, report.training, "distilled");
  };
  return cmd;
}

}  // namespace lmpack::cli
