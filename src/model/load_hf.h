// Loading a Hugging Face model folder (config.json + model.safetensors, or a
// sharded model.safetensors.index.json) into a Checkpoint; the plain entry
// point load_hf_checkpoint(dir) is declared in model/loaders.h.
//
// Tensors are renamed to canonical names (model/hf_names.h); q/k rows (and
// biases) are permuted from HF's rotate-half layout to the adjacent-pair
// layout once, into buffers the checkpoint owns. Everything else stays in the
// memory mappings. Names outside the table (rotary_emb.inv_freq buffers and
// the like) are left out and reported through `skipped_names`. GPTQ and AWQ
// GEMM linears (.qweight/.qzeros/.scales/.g_idx) are dequantized to F32 at
// load (model/load_hf_int.h), so quantized exports run like any other folder.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/checkpoint.h"
#include "model/load_hf_int.h"
#include "model/loaders.h"  // the plain load_hf_checkpoint(dir)

namespace lmpack {

// As load_hf_checkpoint(dir); `skipped_names` (may be null) receives the HF
// names of tensors that were left out, sorted.
Checkpoint load_hf_checkpoint(const std::string& dir, std::vector<std::string>* skipped_names);

// The same from a config.json's text and tensors already read (tests,
// fuzzing): GPTQ/AWQ settings come from the config's quantization_config, no
// tokenizer is looked for, and `where` names the folder in errors
// ("<where>/config.json" for the config's). The caller keeps the tensors'
// bytes alive.
Checkpoint checkpoint_from_hf(std::string_view config_json, std::vector<HfTensor> tensors, const std::string& where);

}  // namespace lmpack
