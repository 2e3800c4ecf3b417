// The `lmpack random-model` job behind one request: a Llama model of the
// given sizes, validated field by field, its output folder checked before any
// work, then written by write_random_model (model/random_model.h). Errors
// name the request's field ("n_heads", "dtype") or the output, never a
// command-line flag.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/dtype.h"
#include "model/config.h"

namespace lmpack {

struct RandomModelRequest {
  std::string output;  // a folder (created; one holding only lmpack's HF files is replaced)
  // llama, mistral, qwen2 (q/k/v biases), qwen3 (per-head q/k norms), gemma2
  // (GeGLU, post-norms, soft-caps 50/30, sliding window on even layers, tied),
  // gemma3 (GeGLU, post-norms, q/k norms, five windowed layers in six with
  // RoPE base 10000, the sixth with 1e6, tied), phi3 (q/k/v and gate/up
  // stored fused; partial rotary and LongRoPE below), smollm3 (no RoPE in
  // every fourth layer), mixtral and qwen3moe (mixtures of experts: a router
  // and n_experts SwiGLU experts per block; qwen3moe with q/k norms)
  std::string architecture = "llama";
  int64_t dim = 0;
  int64_t hidden_dim = 0;  // FFN intermediate size
  int64_t n_layers = 0;
  int64_t n_heads = 0;
  std::optional<int64_t> n_kv_heads;  // none: n_heads
  std::optional<int64_t> head_dim;    // none: dim / n_heads
  int64_t sliding_window = 0;         // mistral: every layer's window; gemma: the windowed layers' (0: none; gemma 4096)
  float rope_linear_factor = 0.0f;    // > 0: linear RoPE scaling (Gemma 3: of the global layers only)
  float partial_rotary = 1.0f;        // phi3: the fraction of each head RoPE turns (Phi-4-mini: 0.75)
  int64_t longrope_original = 0;      // phi3: > 0: LongRoPE with seeded factors past this context (0: none)
  std::optional<int64_t> n_experts;          // mixtral (default 8), qwen3moe (128)
  std::optional<int64_t> n_experts_used;     // per token: mixtral 2, qwen3moe 8
  std::optional<int64_t> expert_hidden_dim;  // qwen3moe's expert width (default hidden_dim)
  int64_t vocab_size = 32000;
  int64_t context_length = 2048;
  bool tied_embeddings = false;
  std::string dtype = "f32";  // f32, f16 or bf16
  uint64_t seed = 1;
  float init_std = 0.02f;  // standard deviation of matrices and biases
};

struct RandomModelReport {
  ModelConfig config;
  DType dtype = DType::F32;
  double seconds = 0.0;
};

// The config the request describes; Error(field, ...) for sizes no model can have.
ModelConfig random_model_config(const RandomModelRequest& request);

RandomModelReport write_random_model_job(const RandomModelRequest& request);

}  // namespace lmpack
