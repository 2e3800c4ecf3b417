// `lmpack eval MODEL --text FILE ...`: perplexity over windows or documents
// (eval/perplexity.h), optionally saving per-position log-probabilities
// (--save-logits) and comparing against a saved base run (--base: KL, top-1
// agreement). Everything that can be refused (options, the base file, the
// tokens) is checked before any weight is decoded.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <optional>

#include "cli_common.h"
#include "cli_output.h"
#include "core/error.h"
#include "core/text_file.h"
#include "eval/kl.h"
#include "eval/logits_file.h"
#include "eval/perplexity.h"
#include "eval/resource_usage.h"
#include "model/forward.h"
#include "model/weights.h"

namespace lmpack::cli {
namespace {

struct EvalCliOptions {
  std::string model;
  std::string tokenizer;
  std::string text;
  int64_t ctx = 0;
  int64_t chunks = 0;
  std::string doc_separator;
  int64_t max_docs = 0;
  bool score_second_half = false;
  std::string save_logits;
  std::string base;
  bool json = false;
  bool reference = false;
};

void check_options(const EvalCliOptions& o, const CLI::App& app) {
  if (app.count("--ctx") && o.ctx < 2) throw Error("--ctx", cat("must be at least 2, got ", o.ctx));
  require_non_negative("--chunks", o.chunks);
  require_non_negative("--max-docs", o.max_docs);
  if (app.count("--doc-separator") && o.doc_separator.empty()) throw Error("--doc-separator", "must not be empty");
  if (o.doc_separator.empty() && app.count("--max-docs"))
    throw Error("--max-docs", "only applies with --doc-separator");
  if (!o.doc_separator.empty() && (app.count("--chunks") || o.score_second_half))
    throw Error(app.count("--chunks") ? "--chunks" : "--score-second-half",
                "only applies to window mode (without --doc-separator)");
  require_existing_path("--text", o.text);
  if (!o.base.empty()) require_existing_path("--base", o.base);
  if (app.count("--save-logits") && o.save_logits.empty()) throw Error("--save-logits", "needs a file name");
}

// Every id must index the model's output rows.
void check_token_range(const std::vector<EvalSequence>& seqs, int64_t vocab, const std::string& where) {
  for (const EvalSequence& s : seqs)
    for (int32_t id : s.tokens)
      if (id < 0 || id >= vocab)
        throw Error(where, cat("token id ", id, " is outside the model's vocabulary of ", vocab,
                               " (tokenizer does not match the model?)"));
}

}  // namespace

Command add_eval_command(CLI::App& parent) {
  auto o = std::make_shared<EvalCliOptions>();
  Command cmd;
  CLI::App* app = parent.add_subcommand("eval", "Perplexity of a text; save or compare log-probabilities");
  cmd.app = app;
  app->add_option("MODEL", o->model, "Model (GGUF, llama2.c .bin, Hugging Face folder)")->required();
  app->add_option("--text", o->text, "Text file to evaluate")->required();
  app->add_option("--ctx", o->ctx, "Tokens per window / document cut (default: the model's context, at most 4096)");
  app->add_option("--chunks", o->chunks, "Window mode: evaluate at most N windows (0: all)");
  app->add_option("--doc-separator", o->doc_separator, "Document mode: split the text on this string");
  app->add_option("--max-docs", o->max_docs, "Document mode: the first N documents (0: all)");
  app->add_flag("--score-second-half", o->score_second_half, "Window mode: score only [ctx/2, ctx) (llama.cpp)");
  app->add_option("--save-logits", o->save_logits, "Write per-position log-probabilities to FILE");
  app->add_option("--base", o->base, "Compare against a --save-logits FILE: KL and top-1 agreement");
  app->add_flag("--json", o->json, "One JSON object on stdout");
  app->add_option("--tokenizer", o->tokenizer, "Vocabulary from elsewhere");
  app->add_flag("--reference", o->reference, "Use the slow reference forward pass");
  cmd.run = [o, app] {
    check_options(*o, *app);
    if (!o->save_logits.empty())
      check_output(o->save_logits, OutputKind::kFile, {o->model, o->tokenizer, o->text, o->base});
    Checkpoint ckpt = load_model(o->model, o->tokenizer);
    std::unique_ptr<Tokenizer> tokenizer = tokenizer_for(ckpt);
    const std::string text = read_text_file(o->text);

    EvalOptions eo;
    eo.ctx = app->count("--ctx") ? o->ctx : default_eval_ctx(ckpt.config.context_length);
    if (app->count("--ctx")) warn_beyond_context("--ctx", eo.ctx, ckpt);
    if (eo.ctx < 2) throw Error(o->model, cat("context_length ", eo.ctx, " is too small; pass --ctx"));
    eo.chunks = o->chunks;
    eo.doc_separator = o->doc_separator;
    eo.max_docs = o->max_docs;
    eo.score_second_half = o->score_second_half;
    std::vector<EvalSequence> seqs = build_eval_sequences(text, *tokenizer, eo, o->text);
    const int64_t vocab = ckpt.config.vocab_size;
    check_token_range(seqs, vocab, o->tokenizer.empty() ? o->model : o->tokenizer);
    const std::vector<int32_t> targets = scored_targets(seqs);
    const uint64_t hash = hash_targets(targets);
    const auto count = static_cast<int64_t>(targets.size());

    std::optional<LogitsFile> base;
    std::optional<KlAccumulator> kl;
    if (!o->base.empty()) {
      base = LogitsFile::open(o->base);
      kl.emplace(*base, vocab, count, hash);
    }
    std::optional<LogitsWriter> writer;
    if (!o->save_logits.empty()) writer.emplace(o->save_logits, vocab, count, hash);

    std::shared_ptr<const ModelWeights> weights = build_weights(ckpt);
    int64_t longest = 0;
    for (const EvalSequence& s : seqs) longest = std::max<int64_t>(longest, s.tokens.size());
    std::unique_ptr<ForwardPass> forward =
        o->reference ? make_reference_forward(weights, longest) : make_fast_forward(weights, longest);

    ScoredPositionSink sink;
    if (writer || kl)
      sink = [&](int32_t target, const float* lp, int64_t) {
        if (writer) writer->add(target, lp);
        if (kl) kl->add(target, lp);
      };
    PerplexityResult r = evaluate_perplexity(*forward, seqs, sink);
    std::optional<KlStats> ks;
    if (kl) ks = kl->finish();
    if (writer) writer->commit();
    const int64_t rss = peak_rss_bytes();

    if (o->json) {
      nlohmann::json j;
      j["perplexity"] = r.perplexity;
      j["tokens"] = r.scored;
      j["tokens_per_second"] = r.tokens_per_second;
      j["peak_rss_bytes"] = rss;
      j["sequences"] = r.sequences;
      j["ctx"] = eo.ctx;
      j["nll_mean"] = r.scored > 0 ? r.nll_sum / static_cast<double>(r.scored) : 0.0;
      if (ks) {
        j["kl_mean"] = ks->kl_mean;
        j["kl_median"] = ks->kl_median;
        j["kl_p99"] = ks->kl_p99;
        j["kl_max"] = ks->kl_max;
        j["top1_agreement"] = ks->top1_agreement;
        j["base_perplexity"] = ks->base_perplexity;
      }
      std::cout << j.dump() << "\n";
      return;
    }
    std::printf("perplexity %.4f over %lld tokens (%lld %s, ctx %lld%s)\n", r.perplexity,
                static_cast<long long>(r.scored), static_cast<long long>(r.sequences),
                eo.doc_separator.empty() ? "windows" : "documents", static_cast<long long>(eo.ctx),
                eo.score_second_half ? ", second half scored" : "");
    std::printf("speed %.1f tokens/s (%s forward, %lld tokens in %.2f s), peak RSS %s\n", r.tokens_per_second,
                o->reference ? "reference" : "fast", static_cast<long long>(r.forward_tokens), r.forward_seconds,
                format_bytes(rss).c_str());
    if (ks)
      std::printf("vs base %s: KL mean %.6g, median %.6g, p99 %.6g, max %.6g; top-1 agreement %.4f; base perplexity %.4f\n",
                  o->base.c_str(), ks->kl_mean, ks->kl_median, ks->kl_p99, ks->kl_max, ks->top1_agreement,
                  ks->base_perplexity);
    if (writer) std::printf("saved log-probabilities of %lld positions to %s\n", static_cast<long long>(count),
                            o->save_logits.c_str());
  };
  return cmd;
}

}  // namespace lmpack::cli
