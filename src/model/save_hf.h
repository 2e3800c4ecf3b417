// Writing a Checkpoint as a Hugging Face model folder: config.json and one
// model.safetensors, under HF tensor names, with q/k rows permuted back to the
// rotate-half layout, every tensor converted to one dtype (F32, F16 or BF16).
//
// The safetensors file is streamed tensor by tensor (decoding a chunk of rows
// at a time), so the checkpoint's bytes are never all in memory. Each file is
// written atomically; on failure neither file is left behind. The vocabulary,
// if any, is not written (no tokenizer.json yet).
#pragma once

#include <string>

#include "core/dtype.h"
#include "model/checkpoint.h"

namespace lmpack {

// Throws Error(out_dir, ...) for an unsupported dtype, Error(ckpt.path, ...)
// for a checkpoint that fails validate_checkpoint or has a tensor HF Llama
// has no name for (rope_freqs.weight is dropped when the config carries llama3
// rope_scaling, which is how HF derives those factors, and refused otherwise),
// and Error("<dtype>", "cannot be decoded") for a source tensor type without
// a decoder.
void save_hf(const Checkpoint& ckpt, const std::string& out_dir, DType dtype);

// Converts n floats to F32/F16/BF16 bytes (dst holds dtype_bytes(dtype, n)).
// Throws Error(tensor, ...) when a finite value overflows F16 (|x| > 65504)
// instead of writing an infinity.
void encode_f32_to(void* dst, const float* src, int64_t n, DType dtype, const std::string& tensor);

}  // namespace lmpack
