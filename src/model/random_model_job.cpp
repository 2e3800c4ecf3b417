// write_random_model_job; see random_model_job.h.
#include "model/random_model_job.h"

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
  if (r.dim % r.n_heads != 0) throw Error("n_heads", cat(r.n_heads, " does not divide `dim` ", r.dim));
  const int64_t kv = r.n_kv_heads.value_or(r.n_heads);
  if (r.n_heads % kv != 0) throw Error("n_kv_heads", cat(kv, " does not divide `n_heads` ", r.n_heads));
  ModelConfig c;
  c.architecture = "llama";
  c.dim = r.dim;
  c.hidden_dim = r.hidden_dim;
  c.n_layers = r.n_layers;
  c.n_heads = r.n_heads;
  c.n_kv_heads = kv;
  c.head_dim = r.dim / r.n_heads;
  c.vocab_size = r.vocab_size;
  c.context_length = r.context_length;
  c.tied_embeddings = r.tied_embeddings;
  c.validate("random-model");
  return c;
}

RandomModelReport write_random_model_job(const RandomModelRequest& r) {
  RandomModelSpec spec;
  spec.config = random_model_config(r);
  spec.dtype = parse_float_dtype("dtype", r.dtype);
  spec.seed = r.seed;
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
