// `lmpack random-model OUT_DIR --dim D --ffn F --layers L --heads H ...`:
// writes a Llama-shaped Hugging Face folder with random weights (for tests
// and benchmarks at sizes no real fixture has) via write_random_model.
#include <cstdio>
#include <string>

#include "cli_common.h"
#include "cli_output.h"
#include "core/error.h"
#include "core/stopwatch.h"
#include "model/random_model.h"

namespace lmpack::cli {
namespace {

struct RandomModelOptions {
  std::string out;
  int64_t dim = 0, ffn = 0, layers = 0, heads = 0, kv_heads = 0;
  int64_t vocab = 32000;
  int64_t ctx = 2048;
  bool tied = false;
  std::string dtype = "f32";
  uint64_t seed = 1;
};

}  // namespace

Command add_random_model_command(CLI::App& parent) {
  auto o = std::make_shared<RandomModelOptions>();
  Command cmd;
  CLI::App* app = parent.add_subcommand("random-model", "Write a random-weight Llama model (HF folder)");
  cmd.app = app;
  app->add_option("OUT_DIR", o->out, "Output folder (created)")->required();
  app->add_option("--dim", o->dim, "Hidden size")->required();
  app->add_option("--ffn", o->ffn, "FFN intermediate size")->required();
  app->add_option("--layers", o->layers, "Transformer blocks")->required();
  app->add_option("--heads", o->heads, "Attention heads")->required();
  app->add_option("--kv-heads", o->kv_heads, "Key/value heads (default: --heads)");
  app->add_option("--vocab", o->vocab, "Vocabulary size (default 32000)");
  app->add_option("--ctx", o->ctx, "Context length (default 2048)");
  app->add_flag("--tied", o->tied, "Tie the output projection to the token embedding");
  app->add_option("--dtype", o->dtype, "f32, f16 or bf16 (default f32)");
  app->add_option("--seed", o->seed, "Random seed (default 1)");
  cmd.run = [o, app] {
    require_positive("--dim", o->dim);
    require_positive("--ffn", o->ffn);
    require_positive("--layers", o->layers);
    require_positive("--heads", o->heads);
    if (app->count("--kv-heads")) require_positive("--kv-heads", o->kv_heads);
    require_positive("--vocab", o->vocab);
    require_positive("--ctx", o->ctx);
    if (o->dim % o->heads != 0)
      throw Error("--heads", cat(o->heads, " does not divide --dim ", o->dim));
    const int64_t kv = app->count("--kv-heads") ? o->kv_heads : o->heads;
    if (o->heads % kv != 0) throw Error("--kv-heads", cat(kv, " does not divide --heads ", o->heads));
    RandomModelSpec spec;
    spec.dtype = parse_float_dtype("--dtype", o->dtype);
    spec.seed = o->seed;
    ModelConfig& c = spec.config;
    c.architecture = "llama";
    c.dim = o->dim;
    c.hidden_dim = o->ffn;
    c.n_layers = o->layers;
    c.n_heads = o->heads;
    c.n_kv_heads = kv;
    c.head_dim = o->dim / o->heads;
    c.vocab_size = o->vocab;
    c.context_length = o->ctx;
    c.tied_embeddings = o->tied;
    c.validate("random-model");
    check_output(o->out, OutputKind::kFolder, {});
    Stopwatch clock;
    write_random_model(spec, o->out);
    std::printf("wrote %s: random llama, dim %lld, ffn %lld, %lld layers, %lld/%lld heads, vocab %lld, %s, in %.2f s\n",
                o->out.c_str(), static_cast<long long>(c.dim), static_cast<long long>(c.hidden_dim),
                static_cast<long long>(c.n_layers), static_cast<long long>(c.n_heads),
                static_cast<long long>(c.n_kv_heads), static_cast<long long>(c.vocab_size), o->dtype.c_str(),
                clock.seconds());
  };
  return cmd;
}

}  // namespace lmpack::cli
