// Writing a Checkpoint as a Hugging Face model folder: config.json and one
// model.safetensors, under HF tensor names, with q/k rows permuted back to the
// rotate-half layout, every tensor converted to one dtype (F32, F16 or BF16).
//
// The safetensors file is streamed tensor by tensor (decoding a chunk of rows
// at a time), so the checkpoint's bytes are never all in memory. The folder is
// written atomically (core/atomic_folder.h): it appears whole or not at all,
// an existing output folder is swapped out only at the end, and an output
// that is or holds the input is refused. The vocabulary, if any, goes in as
// tokenizer.json and its companions (model/hf_tokenizer_export.h).
#pragma once

#include <string>
#include <vector>

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

// The files lmpack's Hugging Face folder writers produce (this one, GPTQ/AWQ
// exports, random models): an existing output folder is replaced only when
// it holds nothing else (check_output_path's `replaceable`).
const std::vector<std::string>& hf_output_files();

// Converts n floats to F32/F16/BF16 bytes (dst holds dtype_bytes(dtype, n)).
// Throws Error(tensor, ...) when a finite value overflows F16 (|x| > 65504)
// instead of writing an infinity.
void encode_f32_to(void* dst, const float* src, int64_t n, DType dtype, const std::string& tensor);

}  // namespace lmpack
