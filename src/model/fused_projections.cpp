// Fused projections; see fused_projections.h.
#include "model/fused_projections.h"

#include "core/error.h"
#include "model/tensor_names.h"

namespace lmpack {

std::vector<FusedProjection> fused_projections(int64_t layer) {
  const std::string b = cat("blk.", layer, ".");
  return {{b + "attn_qkv.weight", {b + "attn_q.weight", b + "attn_k.weight", b + "attn_v.weight"}},
          {b + "ffn_gate_up.weight", {b + "ffn_gate.weight", b + "ffn_up.weight"}}};
}

bool find_fused_part(const std::string& canonical, FusedProjection* fused, int* part) {
  int64_t layer = 0;
  std::string rest;
  if (!split_block(canonical, &layer, &rest)) return false;
  for (FusedProjection& f : fused_projections(layer))
    for (size_t i = 0; i < f.parts.size(); ++i)
      if (f.parts[i] == canonical) {
        *part = static_cast<int>(i);
        *fused = std::move(f);
        return true;
      }
  return false;
}

void split_fused_projections(Checkpoint& ckpt) {
  const ModelConfig& c = ckpt.config;
  for (int64_t l = 0; l < c.n_layers; ++l) {
    for (const FusedProjection& f : fused_projections(l)) {
      auto it = ckpt.tensors.find(f.fused);
      if (it == ckpt.tensors.end()) continue;
      const TensorInfo whole = it->second;
      const bool qkv = f.parts.size() == 3;
      const std::vector<int64_t> rows = qkv ? std::vector<int64_t>{c.q_dim(), c.kv_dim(), c.kv_dim()}
                                            : std::vector<int64_t>{c.hidden_dim, c.hidden_dim};
      int64_t total = 0;
      for (int64_t r : rows) total += r;
      if (whole.shape.size() != 2 || whole.shape[0] != total || total <= 0 || whole.nbytes % static_cast<size_t>(total) != 0)
        throw Error(ckpt.path, cat("tensor ", f.fused, " has shape ", shape_string(whole.shape), "; expected ", total,
                                   qkv ? " rows (q, k, v stacked)" : " rows (gate, up stacked)"));
      const size_t row_bytes = whole.nbytes / static_cast<size_t>(total);
      ckpt.tensors.erase(it);
      size_t offset = 0;
      for (size_t i = 0; i < rows.size(); ++i) {
        if (ckpt.tensors.count(f.parts[i]) != 0)
          throw Error(ckpt.path, cat("tensor ", f.parts[i], " is there beside the fused ", f.fused));
        TensorInfo part = whole;
        part.name = f.parts[i];
        part.shape = {rows[i], whole.shape[1]};
        part.data = whole.data + offset;
        part.nbytes = static_cast<size_t>(rows[i]) * row_bytes;
        offset += part.nbytes;
        ckpt.tensors.emplace(f.parts[i], std::move(part));
      }
    }
  }
}

void split_stacked_experts(Checkpoint& ckpt) {
  const ModelConfig& c = ckpt.config;
  for (int64_t l = 0; l < c.n_layers; ++l) {
    for (const char* kind : kExpertKinds) {
      auto it = ckpt.tensors.find(cat("blk.", l, ".", kind, ".weight"));
      if (it == ckpt.tensors.end()) continue;
      const TensorInfo whole = it->second;
      if (whole.shape.size() != 3 || whole.shape[0] != c.n_experts || whole.shape[0] <= 0 ||
          whole.nbytes % static_cast<size_t>(whole.shape[0]) != 0)
        throw Error(ckpt.path, cat("tensor ", whole.name, " has shape ", shape_string(whole.shape), "; expected [",
                                   c.n_experts, " experts, rows, columns]"));
      const size_t expert_bytes = whole.nbytes / static_cast<size_t>(whole.shape[0]);
      ckpt.tensors.erase(it);
      for (int64_t e = 0; e < c.n_experts; ++e) {
        TensorInfo part = whole;
        part.name = expert_tensor_name(l, kind, e);
        part.shape = {whole.shape[1], whole.shape[2]};
        part.data = whole.data + static_cast<size_t>(e) * expert_bytes;
        part.nbytes = expert_bytes;
        ckpt.tensors.emplace(part.name, std::move(part));
      }
    }
  }
}

}  // namespace lmpack
