#include "model/config.h"

#include "core/error.h"

namespace lmpack {

void ModelConfig::validate(const std::string& where) const {
  auto positive = [&](int64_t v, const char* name) {
    if (v <= 0) throw Error(where, cat(name, " must be positive, got ", v));
  };
  positive(dim, "hidden size");
  positive(hidden_dim, "FFN size");
  positive(n_layers, "layer count");
  positive(n_heads, "head count");
  positive(n_kv_heads, "KV head count");
  positive(head_dim, "head dimension");
  positive(vocab_size, "vocabulary size");
  positive(context_length, "context length");
  if (n_heads % n_kv_heads != 0)
    throw Error(where, cat("head count ", n_heads, " is not a multiple of KV head count ", n_kv_heads));
  if (head_dim % 2 != 0) throw Error(where, cat("head dimension ", head_dim, " is odd; RoPE needs pairs"));
  if (!(rms_eps > 0.0f)) throw Error(where, cat("rms_norm_eps must be positive, got ", rms_eps));
  if (!(rope_theta > 0.0f)) throw Error(where, cat("rope_theta must be positive, got ", rope_theta));
  const int64_t kMaxDim = int64_t{1} << 20;
  if (dim > kMaxDim || hidden_dim > kMaxDim || head_dim > kMaxDim || n_heads > kMaxDim ||
      n_layers > 100000 || vocab_size > (int64_t{1} << 24))
    throw Error(where, "hyperparameters are implausibly large (corrupt header?)");
}

}  // namespace lmpack
