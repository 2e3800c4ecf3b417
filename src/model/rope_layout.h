// The one home of RoPE row layouts. RoPE rotates pairs of a q/k head's rows:
// lmpack (and llama.cpp's "NORM" RoPE) pairs adjacent rows (2i, 2i+1);
// Hugging Face checkpoints, and GGUF files of architectures llama.cpp runs
// with "NEOX" RoPE (qwen2), pair the two halves (i, half + i). Internally
// every q/k weight and bias is in the adjacent order (checkpoint.h): loaders
// call rope_rows_halves_to_adjacent once, writers permute back with
// permute_rope_rows (whole buffers) or adjacent_index (one row at a time).
// Which tensors are RoPE'd: is_query_or_key and is_query_or_key_norm
// (model/tensor_names.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "model/checkpoint.h"

namespace lmpack {

enum class RopeLayout { kHalves, kAdjacent };

// The heads whose rows RoPE rotates in this tensor: n_heads for attn_q,
// n_kv_heads for attn_k (weights and biases), 1 for the per-head q/k norm
// weights (one head's elements), 0 for any other tensor.
int64_t rope_heads(const std::string& name, const ModelConfig& config);

// Position in the adjacent order of the row (or a bias's element) at
// position `halves_position` of the halves order: within each head, halves
// position c * half + i holds adjacent position 2 * i + c, half =
// rotary_dims / 2. With partial rotary (0 < rotary_dims < head_dim) the
// positions past rotary_dims are not turned and keep their place.
// rotary_dims 0: the whole head.
int64_t adjacent_index(int64_t halves_position, int64_t head_dim, int64_t rotary_dims = 0);

// Permutes whole rows from `from` layout into the other one.
// dst, src: [n_heads * head_dim rows, row_bytes each]; dst != src.
void permute_rope_rows(void* dst, const void* src, int64_t n_heads, int64_t head_dim, size_t row_bytes,
                       RopeLayout from, int64_t rotary_dims = 0);

// Permutes the rows of blk.N.attn_q/attn_k weights and biases (and the
// elements of the attn_q_norm/attn_k_norm weights) from the
// rotate-half order into owned buffers (any dtype: whole rows move). Tensors
// whose row count is not heads x head_dim are left for validate_checkpoint.
void rope_rows_halves_to_adjacent(Checkpoint& ckpt);

}  // namespace lmpack
