// write_random_model_job; see random_model_job.h.
#include "model/random_model_job.h"

#include <cmath>

#include "core/error.h"
#include "core/output_path.h"
#include "core/stopwatch.h"
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
      r.architecture != "qwen3" && r.architecture != "gemma2" && r.architecture != "gemma3")
    throw Error("architecture",
                cat("'", r.architecture, "' is not one lmpack writes (llama, mistral, qwen2, qwen3, gemma2, gemma3)"));
  c.architecture = r.architecture;
  c.attn_qkv_bias = r.architecture == "qwen2";
  c.attn_qk_norm = r.architecture == "qwen3" || r.architecture == "gemma3";
  const bool gemma = r.architecture == "gemma2" || r.architecture == "gemma3";
  c.dim = r.dim;
  c.hidden_dim = r.hidden_dim;
  c.n_layers = r.n_layers;
  c.n_heads = r.n_heads;
  c.n_kv_heads = kv;
  c.head_dim = r.head_dim.value_or(r.dim / r.n_heads);
  if (r.sliding_window != 0) {
    if (r.architecture != "mistral" && !gemma)
      throw Error("sliding_window", cat("applies to mistral, gemma2 and gemma3, not ", r.architecture));
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
