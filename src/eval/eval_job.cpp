// run_eval_job; see eval_job.h.
#include "eval/eval_job.h"

#include <algorithm>
#include <filesystem>
#include <memory>

#include "core/error.h"
#include "core/output_path.h"
#include "core/resource_usage.h"
#include "core/text_file.h"
#include "eval/logits_file.h"
#include "model/load_model.h"
#include "runtime/forward.h"
#include "runtime/weights.h"

namespace lmpack {
namespace {

void require_existing(const std::string& field, const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw Error(field, cat(path, ": no such file or directory"));
}

}  // namespace

void validate_eval_request(const EvalRequest& r) {
  if (r.model.empty()) throw Error("model", "no model given");
  if (r.text.empty()) throw Error("text", "no text file given");
  if (r.ctx && *r.ctx < 2) throw Error("ctx", cat("must be at least 2, got ", *r.ctx));
  if (r.chunks && *r.chunks < 0) throw Error("chunks", cat("must be >= 0, got ", *r.chunks));
  if (r.max_docs && *r.max_docs < 0) throw Error("max_docs", cat("must be >= 0, got ", *r.max_docs));
  if (r.doc_separator && r.doc_separator->empty()) throw Error("doc_separator", "must not be empty");
  if (!r.doc_separator && r.max_docs) throw Error("max_docs", "only applies with `doc_separator`");
  if (r.doc_separator && (r.chunks || r.score_second_half))
    throw Error(r.chunks ? "chunks" : "score_second_half", "only applies to window mode (without `doc_separator`)");
  require_existing("text", r.text);
  if (!r.base.empty()) require_existing("base", r.base);
  if (r.save_logits && r.save_logits->empty()) throw Error("save_logits", "needs a file name");
}

EvalReport run_eval_job(const EvalRequest& r) {
  validate_eval_request(r);
  if (r.save_logits) check_output_path(*r.save_logits, OutputKind::kFile, {r.model, r.tokenizer, r.text, r.base}, {});
  const Checkpoint ckpt = load_model(r.model, r.tokenizer);
  const std::unique_ptr<Tokenizer> tokenizer = tokenizer_for(ckpt);
  const std::string text = read_text_file(r.text);

  EvalReport report;
  EvalOptions eo;
  eo.ctx = r.ctx ? *r.ctx : default_eval_ctx(ckpt.config.context_length);
  if (r.ctx) {
    const std::string warning = beyond_context_warning("ctx", eo.ctx, ckpt);
    if (!warning.empty()) report.warnings.push_back(warning);
  }
  if (eo.ctx < 2) throw Error(r.model, cat("context_length ", eo.ctx, " is too small; pass `ctx`"));
  eo.chunks = r.chunks.value_or(0);
  eo.doc_separator = r.doc_separator.value_or("");
  eo.max_docs = r.max_docs.value_or(0);
  eo.score_second_half = r.score_second_half;
  const std::vector<EvalSequence> seqs = build_eval_sequences(text, *tokenizer, eo, r.text);
  const int64_t vocab = ckpt.config.vocab_size;
  for (const EvalSequence& s : seqs) check_token_ids(s.tokens, ckpt, r.tokenizer.empty() ? r.model : r.tokenizer);
  const std::vector<int32_t> targets = scored_targets(seqs);
  const uint64_t hash = hash_targets(targets);
  const auto count = static_cast<int64_t>(targets.size());

  std::optional<LogitsFile> base;
  std::optional<KlAccumulator> kl;
  if (!r.base.empty()) {
    base = LogitsFile::open(r.base);
    kl.emplace(*base, vocab, count, hash);
  }
  std::optional<LogitsWriter> writer;
  if (r.save_logits) writer.emplace(*r.save_logits, vocab, count, hash);

  std::shared_ptr<const ModelWeights> weights = build_weights(ckpt);
  int64_t longest = 0;
  for (const EvalSequence& s : seqs) longest = std::max<int64_t>(longest, static_cast<int64_t>(s.tokens.size()));
  std::unique_ptr<ForwardPass> forward =
      r.reference ? make_reference_forward(weights, longest) : make_fast_forward(weights, longest);

  ScoredPositionSink sink;
  if (writer || kl)
    sink = [&](int32_t target, const float* lp, int64_t) {
      if (writer) writer->add(target, lp);
      if (kl) kl->add(target, lp);
    };
  report.result = evaluate_perplexity(*forward, seqs, sink);
  if (kl) report.kl = kl->finish();
  if (writer) writer->commit();
  report.peak_rss_bytes = peak_rss_bytes();
  report.nll_mean = report.result.scored > 0 ? report.result.nll_sum / static_cast<double>(report.result.scored) : 0.0;
  report.ctx = eo.ctx;
  report.documents = r.doc_separator.has_value();
  report.positions = count;
  return report;
}

}  // namespace lmpack
