// llama2.c checkpoint -> Checkpoint: the header becomes a ModelConfig
// (RMSNorm eps 1e-5, RoPE theta 10000, context = seq_len, as run.c assumes)
// and the stacked arrays are cut into canonical per-layer tensors. llama2.c
// rotates adjacent pairs, which is the internal layout: no permutation.
// The precomputed freq_cis tables are not used (the forward pass makes its
// own). The vocabulary (tokenizer.bin beside the file, or --tokenizer) is
// attached by load_checkpoint().
#include "io/llama2c.h"
#include "model/loaders.h"

namespace lmpack {

Checkpoint checkpoint_from_llama2c(const Llama2cFile& file) {
  const Llama2cHeader& h = file.header;
  const std::string& path = file.path;

  Checkpoint c;
  c.path = path;
  c.format = "llama2c";
  ModelConfig& cfg = c.config;
  cfg.architecture = "llama";
  cfg.dim = h.dim;
  cfg.hidden_dim = h.hidden_dim;
  cfg.n_layers = h.n_layers;
  cfg.n_heads = h.n_heads;
  cfg.n_kv_heads = h.n_kv_heads;
  cfg.head_dim = h.head_dim();
  cfg.vocab_size = h.vocab_size;
  cfg.context_length = h.seq_len;
  cfg.rms_eps = 1e-5f;
  cfg.rope_theta = 10000.0f;
  cfg.tied_embeddings = h.shared_classifier;
  cfg.attn_qkv_bias = false;
  cfg.validate(path);

  auto add = [&](TensorInfo t) {
    std::string name = t.name;
    c.tensors.emplace(std::move(name), std::move(t));
  };
  auto whole = [&](const char* from, const char* to) {
    TensorInfo t = file.tensor(from);
    t.name = to;
    add(std::move(t));
  };
  whole("token_embedding_table", "token_embd.weight");
  whole("rms_final_weight", "output_norm.weight");
  if (!h.shared_classifier) whole("wcls", "output.weight");

  // run.c array -> canonical per-layer suffix.
  static const std::pair<const char*, const char*> kLayerNames[] = {
      {"rms_att_weight", "attn_norm.weight"}, {"wq", "attn_q.weight"},
      {"wk", "attn_k.weight"},                {"wv", "attn_v.weight"},
      {"wo", "attn_output.weight"},           {"rms_ffn_weight", "ffn_norm.weight"},
      {"w1", "ffn_gate.weight"},              {"w2", "ffn_down.weight"},
      {"w3", "ffn_up.weight"},
  };
  for (const auto& [from, suffix] : kLayerNames) {
    const TensorInfo& stacked = file.tensor(from);
    for (int64_t l = 0; l < h.n_layers; ++l)
      add(llama2c_layer_slice(stacked, l, cat("blk.", l, ".", suffix)));
  }
  if (file.file) c.keep_alive.push_back(file.file);
  return c;
}

Checkpoint load_llama2c_checkpoint(const std::string& path) { return checkpoint_from_llama2c(read_llama2c(path)); }

}  // namespace lmpack
