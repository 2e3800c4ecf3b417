// run_generate_job; see generate_job.h.
#include "eval/generate_job.h"

#include <cmath>
#include <memory>

#include "core/error.h"
#include "core/resource_usage.h"
#include "model/load_model.h"
#include "runtime/forward.h"
#include "runtime/weights.h"

namespace lmpack {

void validate_generate_request(const GenerateRequest& r) {
  if (r.model.empty()) throw Error("model", "no model given");
  if (r.max_new_tokens < 0) throw Error("max_new_tokens", cat("must be >= 0, got ", r.max_new_tokens));
  if (!(r.temperature >= 0.0f) || !std::isfinite(r.temperature))
    throw Error("temperature", cat("must be >= 0, got ", r.temperature));
  if (!(r.top_p > 0.0f && r.top_p <= 1.0f)) throw Error("top_p", cat("must be in (0, 1], got ", r.top_p));
}

GenerateReport run_generate_job(const GenerateRequest& r, const PieceCallback& on_piece) {
  validate_generate_request(r);
  const Checkpoint ckpt = load_model(r.model, r.tokenizer);
  const std::unique_ptr<Tokenizer> tokenizer = tokenizer_for(ckpt);
  std::shared_ptr<const ModelWeights> weights = build_weights(ckpt);
  // The KV cache and RoPE tables cover what this run can reach, not the
  // model's whole trained context (which a header may set to 2^24).
  const int64_t prompt_tokens = static_cast<int64_t>(tokenizer->encode(r.prompt, true).size());
  GenerateReport report;
  report.context = generation_context(ckpt.config, prompt_tokens, r.max_new_tokens);
  std::unique_ptr<ForwardPass> forward =
      r.reference ? make_reference_forward(weights, report.context) : make_fast_forward(weights, report.context);

  GenerateOptions go;
  go.max_new_tokens = r.max_new_tokens;
  go.temperature = r.temperature;
  go.top_p = r.top_p;
  go.seed = r.seed;
  if (r.echo_prompt && on_piece) on_piece(r.prompt);
  report.stats = generate(*forward, *tokenizer, r.prompt, go, on_piece);
  report.peak_rss_bytes = peak_rss_bytes();
  return report;
}

}  // namespace lmpack
