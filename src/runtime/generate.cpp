#include "runtime/generate.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/error.h"
#include "core/interrupt.h"
#include "runtime/non_finite.h"
#include "runtime/sampler.h"

namespace lmpack {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

GenerateStats generate_tokens(ForwardPass& forward, const std::vector<int32_t>& prompt_ids,
                              const GenerateOptions& options, int32_t eos_id, int32_t bos_id,
                              const std::function<void(int32_t)>& on_token) {
  if (prompt_ids.empty()) throw Error("prompt", "encodes to no tokens; nothing to continue from");
  const int64_t n = static_cast<int64_t>(prompt_ids.size());
  if (n > forward.max_context())
    throw Error("prompt", cat("is ", n, " tokens, longer than the context of ", forward.max_context()));
  Sampler sampler(SamplerOptions{options.temperature, options.top_p, options.seed});
  const int64_t vocab = forward.config().vocab_size;
  std::vector<float> logits(static_cast<size_t>(vocab));

  GenerateStats stats;
  stats.prompt_tokens = n;
  stats.tokens = prompt_ids;
  forward.reset();
  auto start = std::chrono::steady_clock::now();
  forward.forward(prompt_ids.data(), n, logits.data(), /*last_only=*/true);
  stats.prompt_seconds = seconds_since(start);

  start = std::chrono::steady_clock::now();
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    throw_if_interrupted();
    for (int64_t v = 0; v < vocab; ++v)
      if (!std::isfinite(logits[static_cast<size_t>(v)]))
        throw Error(explain_non_finite(forward.weights(), cat("logit ", v, " at position ", forward.pos(), " is ",
                                                              logits[static_cast<size_t>(v)])));
    const int32_t next = sampler.sample(logits.data(), vocab);
    stats.tokens.push_back(next);
    ++stats.generated_tokens;
    if (options.stop_at_eos && (next == eos_id || next == bos_id)) break;
    if (on_token) on_token(next);
    if (step + 1 == options.max_new_tokens || forward.pos() >= forward.max_context()) break;
    forward.forward(&next, 1, logits.data(), /*last_only=*/true);
  }
  stats.generation_seconds = seconds_since(start);
  if (stats.prompt_seconds > 0) stats.prompt_tokens_per_s = n / stats.prompt_seconds;
  if (stats.generation_seconds > 0) stats.generation_tokens_per_s = stats.generated_tokens / stats.generation_seconds;
  return stats;
}

int64_t generation_context(const ModelConfig& config, int64_t prompt_tokens, int64_t max_new_tokens) {
  int64_t need = 0;
  if (__builtin_add_overflow(std::max<int64_t>(prompt_tokens, 0), std::max<int64_t>(max_new_tokens, 0), &need))
    need = config.context_length;
  return std::clamp<int64_t>(need, 1, config.context_length);
}

GenerateStats generate(ForwardPass& forward, const Tokenizer& tokenizer, std::string_view prompt,
                       const GenerateOptions& options, const PieceCallback& on_piece) {
  const std::vector<int32_t> ids = tokenizer.encode(prompt, /*add_bos=*/true);
  int32_t prev = ids.empty() ? -1 : ids.back();
  auto emit = [&](int32_t id) {
    if (on_piece) on_piece(tokenizer.decode_token(prev, id));
    prev = id;
  };
  const Vocab& v = tokenizer.vocab();
  return generate_tokens(forward, ids, options, v.eos_id, v.bos_id, emit);
}

}  // namespace lmpack
