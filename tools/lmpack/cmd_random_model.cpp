// `lmpack random-model OUT_DIR --dim D --ffn F --layers L --heads H ...`:
// fills a RandomModelRequest (model/random_model_job.h: a Llama-shaped
// Hugging Face folder with random weights, for tests and benchmarks at sizes
// no real fixture has) and prints what was written.
#include <cstdio>
#include <string>

#include "cli_common.h"
#include "model/random_model_job.h"

namespace lmpack::cli {
namespace {

struct RandomModelCliOptions {
  RandomModelRequest request;
  int64_t kv_heads = 0;
  int64_t head_dim = 0;
  int64_t experts = 0, experts_used = 0, expert_ffn = 0;
};

}  // namespace

Command add_random_model_command(CLI::App& parent) {
  auto o = std::make_shared<RandomModelCliOptions>();
  RandomModelRequest& r = o->request;
  Command cmd;
  CLI::App* app = parent.add_subcommand("random-model", "Write a random-weight model of a supported architecture (HF folder)");
  cmd.app = app;
  cmd.flags = {{"output", "OUT_DIR"},      {"dim", "--dim"},        {"hidden_dim", "--ffn"},
               {"n_layers", "--layers"},   {"n_heads", "--heads"},  {"n_kv_heads", "--kv-heads"},
               {"vocab_size", "--vocab"},  {"context_length", "--ctx"}, {"dtype", "--dtype"},
               {"architecture", "--arch"}, {"head_dim", "--head-dim"},  {"init_std", "--init-std"},
               {"sliding_window", "--sliding-window"}, {"rope_linear_factor", "--rope-linear-factor"},
               {"partial_rotary", "--partial-rotary"}, {"longrope_original", "--longrope"},
               {"n_experts", "--experts"}, {"n_experts_used", "--experts-used"}, {"expert_hidden_dim", "--expert-ffn"}};
  app->add_option("OUT_DIR", r.output, "Output folder (created)")->required();
  app->add_option("--dim", r.dim, "Hidden size")->required();
  app->add_option("--ffn", r.hidden_dim, "FFN intermediate size")->required();
  app->add_option("--layers", r.n_layers, "Transformer blocks")->required();
  app->add_option("--heads", r.n_heads, "Attention heads")->required();
  app->add_option("--kv-heads", o->kv_heads, "Key/value heads (default: --heads)");
  app->add_option("--arch", r.architecture,
                  "llama, mistral, qwen2 (q/k/v biases), qwen3 (per-head q/k norms), gemma2, gemma3, phi3 (fused "
                  "projections), smollm3 (no RoPE in every 4th layer), mixtral or qwen3moe (mixtures of experts); "
                  "default llama");
  app->add_option("--sliding-window", r.sliding_window,
                  "Mistral: every layer's attention window (default: none); Gemma: the windowed layers' (default 4096)");
  app->add_option("--rope-linear-factor", r.rope_linear_factor,
                  "Linear RoPE scaling factor (default: none; Gemma 3: its global layers only)");
  app->add_option("--partial-rotary", r.partial_rotary,
                  "phi3: the fraction of each head RoPE turns (default 1; Phi-4-mini 0.75)");
  app->add_option("--longrope", r.longrope_original,
                  "phi3: LongRoPE scaling with seeded short/long factors; contexts longer than this use the long ones");
  app->add_option("--experts", o->experts, "mixtral/qwen3moe: experts per block (default 8 / 128)");
  app->add_option("--experts-used", o->experts_used, "mixtral/qwen3moe: experts run per token (default 2 / 8)");
  app->add_option("--expert-ffn", o->expert_ffn, "qwen3moe: an expert's FFN width (default --ffn)");
  app->add_option("--head-dim", o->head_dim, "Head dimension (default: --dim / --heads; Qwen3 sets it apart)");
  app->add_option("--init-std", r.init_std,
                  "Standard deviation of the random matrices and biases (default 0.02, HF's initializer_range)");
  app->add_option("--vocab", r.vocab_size, "Vocabulary size (default 32000)");
  app->add_option("--ctx", r.context_length, "Context length (default 2048)");
  app->add_flag("--tied", r.tied_embeddings, "Tie the output projection to the token embedding");
  app->add_option("--dtype", r.dtype, "f32, f16 or bf16 (default f32)");
  app->add_option("--seed", r.seed, "Random seed (default 1)");
  cmd.run = [o, app] {
    RandomModelRequest& r = o->request;
    if (app->count("--kv-heads")) r.n_kv_heads = o->kv_heads;
    if (app->count("--head-dim")) r.head_dim = o->head_dim;
    if (app->count("--experts")) r.n_experts = o->experts;
    if (app->count("--experts-used")) r.n_experts_used = o->experts_used;
    if (app->count("--expert-ffn")) r.expert_hidden_dim = o->expert_ffn;
    const RandomModelReport report = write_random_model_job(r);
    const ModelConfig& c = report.config;
    std::printf("wrote %s: random %s, dim %lld, ffn %lld, %lld layers, %lld/%lld heads, vocab %lld, %s, in %.2f s\n",
                r.output.c_str(), c.architecture.c_str(), static_cast<long long>(c.dim), static_cast<long long>(c.hidden_dim),
                static_cast<long long>(c.n_layers), static_cast<long long>(c.n_heads),
                static_cast<long long>(c.n_kv_heads), static_cast<long long>(c.vocab_size), r.dtype.c_str(),
                report.seconds);
  };
  return cmd;
}

}  // namespace lmpack::cli
