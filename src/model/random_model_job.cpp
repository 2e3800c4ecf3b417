// write_random_model_job; see random_model_job.h.
#include "model/random_model_job.h"

#include <cmath>

#include "core/error.h"
#include "core/hash.h"
#include "core/output_path.h"
#include "core/stopwatch.h"
#include "model/hf_config.h"
#include "model/random_model.h"
#include "model/save_hf.h"

namespace lmpack {
namespace {

void require_positive(const char* field, int64_t value) {
  if (value <= 0) throw Error(field, cat("must be a positive integer, got ", value));
}

}  // namespace

ModelConfig random_model_config(const RandomModelRequest& r) {
  require_positive("dim", r.dim);
  require_positive("hidden_dim", r.hidden_dim);
  require_positive("n_layers", r.n_layers);
  require_positive("n_heads", r.n_heads);
  if (r.n_kv_heads) require_positive("n_kv_heads", *r.n_kv_heads);
  require_positive("vocab_size", r.vocab_size);
  require_positive("context_length", r.context_length);
  if (r.head_dim) require_positive("head_dim", *r.head_dim);
  if (!r.head_dim && r.dim % r.n_heads != 0)
    throw Error("n_heads", cat(r.n_heads, " does not divide `dim` ", r.dim, " (give `head_dim`)"));
  if (r.head_dim && *r.head_dim % 2 != 0) throw Error("head_dim", cat(*r.head_dim, " is odd; RoPE needs pairs"));
  if (!(r.init_std > 0.0f) || !(r.init_std <= 10.0f))
    throw Error("init_std", cat(r.init_std, " is outside (0, 10]"));
  const int64_t kv = r.n_kv_heads.value_or(r.n_heads);
  if (r.n_heads % kv != 0) throw Error("n_kv_heads", cat(kv, " does not divide `n_heads` ", r.n_heads));
  ModelConfig c;
  if (r.architecture != "llama" && r.architecture != "mistral" && r.architecture != "qwen2" &&
      r.architecture != "qwen3" && r.architecture != "gemma2" && r.architecture != "gemma3" &&
      r.architecture != "phi3" && r.architecture != "smollm3" && r.architecture != "mixtral" &&
      r.architecture != "qwen3moe")
    throw Error("architecture", cat("'", r.architecture,
                                    "' is not one lmpack writes (llama, mistral, qwen2, qwen3, gemma2, gemma3, phi3, "
                                    "smollm3, mixtral, qwen3moe)"));
  c.architecture = r.architecture;
  c.attn_qkv_bias = r.architecture == "qwen2";
  c.attn_qk_norm = r.architecture == "qwen3" || r.architecture == "gemma3" || r.architecture == "qwen3moe";
  const bool gemma = r.architecture == "gemma2" || r.architecture == "gemma3";
  c.dim = r.dim;
  c.hidden_dim = r.hidden_dim;
  c.n_layers = r.n_layers;
  c.n_heads = r.n_heads;
  c.n_kv_heads = kv;
  c.head_dim = r.head_dim.value_or(r.dim / r.n_heads);
  const bool phi3 = r.architecture == "phi3";
  if (r.sliding_window != 0) {
    if (r.architecture != "mistral" && !gemma && !phi3 && r.architecture != "mixtral")
      throw Error("sliding_window", cat("applies to mistral, mixtral, phi3, gemma2 and gemma3, not ", r.architecture));
    require_positive("sliding_window", r.sliding_window);
    c.sliding_window = r.sliding_window;
  }
  if (gemma) {  // Gemma 2's and Gemma 3's published settings
    set_gemma_block(c);
    c.attention_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));  // query_pre_attn_scalar = head_dim
    if (r.architecture == "gemma2") {
      c.attn_softcap = 50.0f;
      c.final_softcap = 30.0f;
      c.sliding_window_pattern = 2;
    } else {
      c.sliding_window_pattern = 6;
      c.rope_theta = 1000000.0f;
      c.rope_theta_local = 10000.0f;
    }
    if (c.sliding_window == 0) c.sliding_window = 4096;
    c.rms_eps = 1e-6f;
  }
  if (r.partial_rotary != 1.0f) {
    if (!phi3) throw Error("partial_rotary", cat("applies to phi3, not ", r.architecture));
    if (c.head_dim > kMaxModelWidth) throw Error("head_dim", cat(c.head_dim, " exceeds ", kMaxModelWidth));
    const float dims = r.partial_rotary * static_cast<float>(c.head_dim);
    if (!(r.partial_rotary > 0.0f && r.partial_rotary <= 1.0f) || dims != std::floor(dims) ||
        static_cast<int64_t>(dims) % 2 != 0)
      throw Error("partial_rotary", cat(r.partial_rotary, " of head_dim ", c.head_dim,
                                        " is not a whole, even number of dimensions in (0, head_dim]"));
    if (static_cast<int64_t>(dims) != c.head_dim) c.rotary_dims = static_cast<int64_t>(dims);
  }
  if (r.longrope_original != 0) {  // Phi-3's LongRoPE with seeded factors (short in [1, 1.5), long in [1, 8))
    if (!phi3) throw Error("longrope_original", cat("applies to phi3, not ", r.architecture));
    require_positive("longrope_original", r.longrope_original);
    RopeScaling& s = c.rope_scaling;
    s.type = RopeScaling::Type::kLongRope;
    s.original_max_position = r.longrope_original;
    uint64_t state = r.seed ^ 0x6c6f6e67726f7065ull;  // "longrope"
    auto uniform = [&] { return static_cast<float>(splitmix64_next(state) >> 40) * 0x1p-24f; };
    for (int64_t j = 0; j < c.rope_dims() / 2; ++j) {
      s.short_factors.push_back(1.0f + 0.5f * uniform());
      s.long_factors.push_back(1.0f + 7.0f * uniform());
    }
    s.attention_factor = longrope_attention_factor(r.context_length, r.longrope_original);
  }
  const bool moe = r.architecture == "mixtral" || r.architecture == "qwen3moe";
  if (moe) {  // Mixtral: 8 experts, 2 per token, as wide as --ffn; Qwen3-MoE: 128, 8 per token, their own width
    c.n_experts = r.n_experts.value_or(r.architecture == "mixtral" ? 8 : 128);
    c.n_experts_used = r.n_experts_used.value_or(r.architecture == "mixtral" ? 2 : 8);
    c.expert_hidden_dim = r.architecture == "mixtral" ? c.hidden_dim : r.expert_hidden_dim.value_or(c.hidden_dim);
    if (r.architecture == "mixtral" && r.expert_hidden_dim && *r.expert_hidden_dim != c.hidden_dim)
      throw Error("expert_hidden_dim", "Mixtral's experts are `hidden_dim` wide");
    require_positive("n_experts", c.n_experts);
    require_positive("n_experts_used", c.n_experts_used);
    require_positive("expert_hidden_dim", c.expert_hidden_dim);
    if (c.n_experts_used > c.n_experts)
      throw Error("n_experts_used", cat(c.n_experts_used, " exceeds `n_experts` ", c.n_experts));
    c.norm_topk_prob = true;
    if (r.architecture == "qwen3moe") c.rope_theta = 1000000.0f;
  } else if (r.n_experts || r.n_experts_used || r.expert_hidden_dim) {
    throw Error("n_experts", cat("applies to mixtral and qwen3moe, not ", r.architecture));
  }
  if (r.architecture == "smollm3") {  // SmolLM3-3B's: no RoPE in every fourth layer, base 5e6
    c.nope_interval = 4;
    c.rope_theta = 5000000.0f;
  }
  if (r.rope_linear_factor != 0.0f) {
    if (!(r.rope_linear_factor > 0.0f) || !std::isfinite(r.rope_linear_factor))
      throw Error("rope_linear_factor", cat("must be positive, got ", r.rope_linear_factor));
    c.rope_scaling.type = RopeScaling::Type::kLinear;
    c.rope_scaling.factor = r.rope_linear_factor;
  }
  c.vocab_size = r.vocab_size;
  c.context_length = r.context_length;
  c.tied_embeddings = r.tied_embeddings || gemma;  // Gemma has no lm_head
  c.validate("random-model");
  return c;
}

RandomModelReport write_random_model_job(const RandomModelRequest& r) {
  RandomModelSpec spec;
  spec.config = random_model_config(r);
  spec.dtype = parse_float_dtype("dtype", r.dtype);
  spec.seed = r.seed;
  spec.init_std = r.init_std;
  if (r.output.empty()) throw Error("output", "no output given");
  check_output_path(r.output, OutputKind::kFolder, {}, hf_output_files());
  Stopwatch clock;
  write_random_model(spec, r.output);
  RandomModelReport report;
  report.config = spec.config;
  report.dtype = spec.dtype;
  report.seconds = clock.seconds();
  return report;
}

}  // namespace lmpack
