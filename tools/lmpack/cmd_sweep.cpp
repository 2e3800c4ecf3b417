// `lmpack sweep MODEL --calib FILE --eval FILE [--methods ...] [--types ...]
// [--bpw-range A:B[:STEP]] -o DIR`: the size-vs-quality frontier of a model,
// computed by the library's job (pipeline/sweep.h), written as DIR/results.json
// and DIR/report.html; each run is printed as it finishes, then a table.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli_calibration.h"
#include "cli_common.h"
#include "cli_errors.h"
#include "core/error.h"
#include "pipeline/gguf_mix.h"
#include "pipeline/sweep.h"

namespace lmpack::cli {
namespace {

struct SweepCliOptions {
  SweepRequest request;
  std::vector<std::string> methods, types, target_types;
  std::string bpw_range;
  int64_t eval_ctx = 0, eval_max_docs = 0, eval_chunks = 0;
  std::string eval_doc_separator;
  std::string probe;
  int64_t sensitivity_tokens = 4096;
};

void print_run(const SweepResults& r, const SweepRun& run) {
  std::printf("%-22s %7.3f bpw %10.2f MB  KL %.5f  top-1 %6.2f%%  quality kept %6.2f%%  (%.1f s + %.1f s)\n",
              run.name.c_str(), run.bits_per_weight, static_cast<double>(run.file_bytes) / 1e6, run.kl_mean,
              100.0 * run.top1, 100.0 * quality_kept(r, run), run.seconds, run.eval_seconds);
  std::fflush(stdout);
}

}  // namespace

Command add_sweep_command(CLI::App& parent) {
  auto o = std::make_shared<SweepCliOptions>();
  SweepRequest& r = o->request;
  Command cmd;
  CLI::App* app = parent.add_subcommand("sweep", "Size against quality: many compressions of a model, measured; report.html");
  cmd.app = app;
  cmd.flags = {{"output", "-o"},           {"eval.text", "--eval"},          {"eval.ctx", "--eval-ctx"},
               {"eval.max_docs", "--max-docs"}, {"eval.doc_separator", "--doc-separator"},
               {"eval.chunks", "--chunks"}, {"methods", "--methods"},          {"mixes", "--types"},
               {"targets", "--bpw-range"},  {"types", "--target-types"},      {"probe", "--probe"},
               {"max_tokens", "--sensitivity-tokens"}};
  app->add_option("MODEL", r.model, "Model (GGUF, llama2.c .bin, Hugging Face folder)")->required();
  add_calibration_options(app, r.calibration);
  app->add_option("--eval", r.eval_text, "Text file the runs are measured on")->required();
  app->add_option("--eval-ctx", o->eval_ctx, "Tokens per evaluation window / document cut (default: the model's context)");
  app->add_option("--doc-separator", o->eval_doc_separator, "Evaluate documents split on this string");
  app->add_option("--max-docs", o->eval_max_docs, "With --doc-separator: the first N documents (0: all)");
  app->add_option("--chunks", o->eval_chunks, "Without --doc-separator: at most N windows (0: all)");
  app->add_option("--methods", o->methods, "Comma-separated: rtn, imatrix, gptq (default all three)")->delimiter(',');
  app->add_option("--types", o->types,
                  "llama.cpp mixes to run, comma-separated, or none (default: " +
                      [] {
                        std::string s;
                        for (const std::string& m : default_sweep_mixes()) s += (s.empty() ? "" : ",") + m;
                        return s;
                      }() +
                      ")")
      ->delimiter(',');
  app->add_option("--bpw-range", o->bpw_range, "Size targets A:B[:STEP] bits per weight (step 0.5), a type per tensor");
  app->add_option("--target-types", o->target_types, "Candidate types of the size targets (default q2_K..q8_0)")
      ->delimiter(',');
  app->add_option("--probe", o->probe, "The type the sensitivity is measured in (default: the lowest candidate)");
  app->add_option("--sensitivity-tokens", o->sensitivity_tokens, "Calibration tokens for the sensitivity (default 4096)");
  app->add_option("-o,--output", r.output, "Output folder: results.json, report.html")->required();
  app->add_flag("--keep-models", r.keep_models, "Keep every compressed file (DIR/models/)");
  app->add_option("--tokenizer", r.tokenizer, "Vocabulary from elsewhere");
  cmd.run = [o, app] {
    SweepRequest& r = o->request;
    r.methods = o->methods;
    if (app->count("--types")) {
      r.mixes = o->types;
      if (r.mixes->size() == 1 && r.mixes->front() == "none") r.mixes->clear();
    }
    if (!o->bpw_range.empty()) r.targets = parse_bpw_range("--bpw-range", o->bpw_range);
    for (const std::string& t : o->target_types) r.sensitivity.types.push_back(parse_tensor_type("--target-types", t));
    if (!o->probe.empty()) r.sensitivity.probe = parse_tensor_type("--probe", o->probe);
    r.sensitivity.max_tokens = o->sensitivity_tokens;
    if (app->count("--eval-ctx")) r.eval_ctx = o->eval_ctx;
    if (app->count("--doc-separator")) r.eval_doc_separator = o->eval_doc_separator;
    if (app->count("--max-docs")) r.eval_max_docs = o->eval_max_docs;
    if (app->count("--chunks")) r.eval_chunks = o->eval_chunks;
    bool first = true;
    const SweepResults res = run_sweep(r, [&](const SweepRun& run) {
      if (first) std::printf("%-22s %11s %13s  %-9s  %-12s  %s\n", "run", "size", "file", "KL", "top-1", "seconds");
      first = false;
      std::printf("%-22s %7.3f bpw %10.2f MB  KL %.5f  top-1 %6.2f%%  (%.1f s + %.1f s)\n", run.name.c_str(),
                  run.bits_per_weight, static_cast<double>(run.file_bytes) / 1e6, run.kl_mean, 100.0 * run.top1,
                  run.seconds, run.eval_seconds);
      std::fflush(stdout);
    }, [](const SweepSkip& s) {
      std::printf("%-22s skipped: %s\n", s.name.c_str(), s.reason.c_str());
      std::fflush(stdout);
    });
    std::printf("\n%s: base perplexity %.4f on %lld tokens; %zu runs in %.1f s\n", res.model.name.c_str(),
                res.base_perplexity, static_cast<long long>(res.eval_tokens), res.runs.size(), res.seconds);
    for (const SweepRun& run : res.runs) print_run(res, run);
    for (const SweepSkip& s : res.skipped) std::printf("%s: not run: %s\n", s.name.c_str(), s.reason.c_str());
    for (const SweepClaim& c : check_claims(res))
      std::printf("claim: %s: %s (%s)\n", c.claim.c_str(), c.verdict.c_str(), c.evidence.c_str());
    std::printf("wrote %s/results.json and %s/report.html\n", r.output.c_str(), r.output.c_str());
  };
  return cmd;
}

}  // namespace lmpack::cli
