// `lmpack eval MODEL --text FILE ...`: fills an EvalRequest from the flags
// (eval/eval_job.h: perplexity over windows or documents, optionally saving
// per-position log-probabilities and comparing against a saved base run),
// runs it, and prints the report as text or one JSON object.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "cli_common.h"
#include "cli_errors.h"
#include "core/error.h"
#include "eval/eval_job.h"

namespace lmpack::cli {
namespace {

struct EvalCliOptions {
  EvalRequest request;
  int64_t ctx = 0;
  int64_t chunks = 0;
  std::string doc_separator;
  int64_t max_docs = 0;
  std::string save_logits;
  bool json = false;
};

void print_json(const EvalReport& report) {
  const PerplexityResult& r = report.result;
  nlohmann::json j;
  j["perplexity"] = r.perplexity;
  j["tokens"] = r.scored;
  j["tokens_per_second"] = r.tokens_per_second;
  j["peak_rss_bytes"] = report.peak_rss_bytes;
  j["sequences"] = r.sequences;
  j["ctx"] = report.ctx;
  j["nll_mean"] = report.nll_mean;
  if (report.kl) {
    const KlStats& ks = *report.kl;
    j["kl_mean"] = ks.kl_mean;
    j["kl_median"] = ks.kl_median;
    j["kl_p99"] = ks.kl_p99;
    j["kl_max"] = ks.kl_max;
    j["top1_agreement"] = ks.top1_agreement;
    j["base_perplexity"] = ks.base_perplexity;
  }
  std::cout << j.dump() << "\n";
}

void print_text(const EvalRequest& request, const EvalReport& report) {
  const PerplexityResult& r = report.result;
  std::printf("perplexity %.4f over %lld tokens (%lld %s, ctx %lld%s)\n", r.perplexity,
              static_cast<long long>(r.scored), static_cast<long long>(r.sequences),
              report.documents ? "documents" : "windows", static_cast<long long>(report.ctx),
              request.score_second_half ? ", second half scored" : "");
  std::printf("speed %.1f tokens/s (%s forward, %lld tokens in %.2f s), peak RSS %s\n", r.tokens_per_second,
              request.reference ? "reference" : "fast", static_cast<long long>(r.forward_tokens), r.forward_seconds,
              format_bytes(report.peak_rss_bytes).c_str());
  if (report.kl) {
    const KlStats& ks = *report.kl;
    std::printf("vs base %s: KL mean %.6g, median %.6g, p99 %.6g, max %.6g; top-1 agreement %.4f; base perplexity %.4f\n",
                request.base.c_str(), ks.kl_mean, ks.kl_median, ks.kl_p99, ks.kl_max, ks.top1_agreement,
                ks.base_perplexity);
  }
  if (request.save_logits)
    std::printf("saved log-probabilities of %lld positions to %s\n", static_cast<long long>(report.positions),
                request.save_logits->c_str());
}

}  // namespace

Command add_eval_command(CLI::App& parent) {
  auto o = std::make_shared<EvalCliOptions>();
  EvalRequest& r = o->request;
  Command cmd;
  CLI::App* app = parent.add_subcommand("eval", "Perplexity of a text; save or compare log-probabilities");
  cmd.app = app;
  cmd.flags = {{"text", "--text"},
               {"doc_separator", "--doc-separator"},
               {"max_docs", "--max-docs"},
               {"score_second_half", "--score-second-half"},
               {"save_logits", "--save-logits"},
               {"base", "--base"}};
  app->add_option("MODEL", r.model, "Model (GGUF, llama2.c .bin, Hugging Face folder)")->required();
  app->add_option("--text", r.text, "Text file to evaluate")->required();
  app->add_option("--ctx", o->ctx, "Tokens per window / document cut (default: the model's context, at most 4096)");
  app->add_option("--chunks", o->chunks, "Window mode: evaluate at most N windows (0: all)");
  app->add_option("--doc-separator", o->doc_separator, "Document mode: split the text on this string");
  app->add_option("--max-docs", o->max_docs, "Document mode: the first N documents (0: all)");
  app->add_flag("--score-second-half", r.score_second_half, "Window mode: score only [ctx/2, ctx) (llama.cpp)");
  app->add_option("--save-logits", o->save_logits, "Write per-position log-probabilities to FILE");
  app->add_option("--base", r.base, "Compare against a --save-logits FILE: KL and top-1 agreement");
  app->add_flag("--json", o->json, "One JSON object on stdout");
  app->add_option("--tokenizer", r.tokenizer, "Vocabulary from elsewhere");
  app->add_flag("--reference", r.reference, "Use the slow reference forward pass");
  cmd.run = [o, app] {
    EvalRequest& r = o->request;
    if (app->count("--ctx")) r.ctx = o->ctx;
    if (app->count("--chunks")) r.chunks = o->chunks;
    if (app->count("--doc-separator")) r.doc_separator = o->doc_separator;
    if (app->count("--max-docs")) r.max_docs = o->max_docs;
    if (app->count("--save-logits")) r.save_logits = o->save_logits;
    const EvalReport report = run_eval_job(r);
    print_warnings(report.warnings);
    if (o->json)
      print_json(report);
    else
      print_text(r, report);
  };
  return cmd;
}

}  // namespace lmpack::cli
