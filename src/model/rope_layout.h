// Bringing a checkpoint's RoPE'd rows into lmpack's internal layout.
//
// Hugging Face checkpoints, and GGUF files of architectures that llama.cpp
// runs with "NEOX" RoPE (qwen2), store q/k rows in the rotate-half order;
// internally every q/k weight and bias rotates adjacent pairs (checkpoint.h).
// Loaders call this once; writers permute back (hf_names.h).
#pragma once

#include "model/checkpoint.h"

namespace lmpack {

// Permutes the rows of blk.N.attn_q/attn_k weights and biases from the
// rotate-half order into owned buffers (any dtype: whole rows move). Tensors
// whose row count is not heads x head_dim are left for validate_checkpoint.
void rope_rows_halves_to_adjacent(Checkpoint& ckpt);

}  // namespace lmpack
