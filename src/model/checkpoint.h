// A model as loaded from disk, in lmpack's internal representation:
// hyperparameters, tensors under canonical (GGUF-style) names, and the
// vocabulary if the checkpoint carries one. Nothing is decoded here: tensor
// bytes stay in the memory mapping until used.
//
// Canonical tensor names and layouts (shapes row-major, {out, in}):
//   token_embd.weight        {vocab, dim}
//   output_norm.weight       {dim}
//   output.weight            {vocab, dim}      absent when tied_embeddings
//   blk.N.attn_norm.weight   {dim}
//   blk.N.attn_q.weight      {q_dim, dim}      RoPE rows in adjacent-pair layout
//   blk.N.attn_k.weight      {kv_dim, dim}     RoPE rows in adjacent-pair layout
//   blk.N.attn_v.weight      {kv_dim, dim}
//   blk.N.attn_q.bias / attn_k.bias / attn_v.bias   (Qwen2 only)
//   blk.N.attn_q_norm.weight / attn_k_norm.weight {head_dim}  (Qwen3 only)
//                            per-head RMSNorm of q / k before RoPE, in the
//                            adjacent-pair layout of one head
//   blk.N.attn_output.weight {dim, q_dim}
//   blk.N.ffn_norm.weight    {dim}
//   blk.N.ffn_gate.weight    {hidden_dim, dim} (w1)
//   blk.N.ffn_up.weight      {hidden_dim, dim} (w3)
//   blk.N.ffn_down.weight    {dim, hidden_dim} (w2)
// RoPE: internally q/k rotate adjacent pairs (2i, 2i+1) within each head, as
// GGUF and llama2.c store them. Hugging Face checkpoints rotate halves
// (i, i + head_dim/2); their loader permutes q/k rows once, at load, and the
// HF writer permutes them back. Nothing else in lmpack knows about halves.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/tensor_info.h"
#include "model/config.h"
#include "tokenizer/vocab.h"

namespace lmpack {

struct Checkpoint {
  std::string path;    // what the user named
  std::string format;  // "gguf", "hf", "llama2c"
  ModelConfig config;
  std::map<std::string, TensorInfo> tensors;  // canonical name -> tensor
  std::optional<Vocab> vocab;
  std::string recipe;  // the JSON array of the steps that made it (GGUF lmpack.recipe, config.json lmpack_recipe; "" : none)
  std::vector<std::shared_ptr<const void>> keep_alive;  // mappings and owned buffers

  // Throws Error(path, "missing tensor <name>") when absent.
  const TensorInfo& tensor(const std::string& name) const;
  const TensorInfo* find(const std::string& name) const;
  int64_t parameter_count() const;
  uint64_t tensor_bytes() const;
  // Adds or replaces tensor `name` as F32 `values` (shape's element count),
  // whose buffer keep_alive then owns.
  void set_f32(const std::string& name, std::vector<int64_t> shape, std::vector<float> values);
};

struct LoadOptions {
  std::string tokenizer_path;  // --tokenizer: a vocabulary from elsewhere
};

// Detects the format: a directory with config.json (HF), a file starting with
// "GGUF", else a llama2.c checkpoint (tokenizer.bin looked up beside it only
// when LoadOptions::tokenizer_path is empty). Validates every tensor's shape
// against the config and names the first missing or mis-shaped tensor.
Checkpoint load_checkpoint(const std::string& path, const LoadOptions& options = {});

}  // namespace lmpack
