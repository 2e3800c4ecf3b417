// The key/value cache of the forward passes: for every layer, the rotated
// keys and the values of every position so far, laid out
// [layer][pos][kv_dim] so that one GEMM writes a whole chunk's rows.
//
// The memory is reserved, not committed: an anonymous MAP_NORESERVE mapping
// whose pages arrive only when a position reaches them. A model with a long
// trained context (131072 for Llama 3.1) can therefore ask for its full
// context without the machine needing the whole cache up front.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lmpack {

class KvCache {
 public:
  // Throws Error("context", ...) when the address space cannot be reserved.
  KvCache(int64_t n_layers, int64_t max_context, int64_t kv_dim);
  ~KvCache();
  KvCache(const KvCache&) = delete;
  KvCache& operator=(const KvCache&) = delete;

  float* keys(int64_t layer) { return keys_ + layer * layer_stride_; }      // [max_context, kv_dim]
  float* values(int64_t layer) { return values_ + layer * layer_stride_; }  // [max_context, kv_dim]
  int64_t max_context() const { return max_context_; }

 private:
  int64_t max_context_;
  int64_t layer_stride_;  // max_context * kv_dim
  size_t bytes_ = 0;      // of one mapping
  float* keys_ = nullptr;
  float* values_ = nullptr;
};

}  // namespace lmpack
