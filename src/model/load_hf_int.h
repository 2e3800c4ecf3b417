// Reading GPTQ and AWQ GEMM linears of a Hugging Face folder back into plain
// F32 weights, for load_hf.cpp (the layouts: formats/int_packing.h and
// pipeline/export_int_hf.h).
//
// A linear stored as <prefix>.qweight, .qzeros, .scales (and for GPTQ .g_idx)
// is unpacked and dequantized, w[o][c] = scale[g][o] · (q[o][c] - zero[g][o])
// with g = g_idx[c] when g_idx is present (GPTQ act-order files) and
// c / group_size otherwise, into an F32 tensor <prefix>.weight {out, in}
// whose buffer the checkpoint keeps alive. The quantization settings come
// from config.json's "quantization_config", or from quantize_config.json
// (AutoGPTQ) / quant_config.json (AutoAWQ) beside it. GPTQ zeros follow
// checkpoint_format "gptq" (stored zero - 1, as vLLM reads them) or
// "gptq_v2" (stored as is).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "io/tensor_info.h"
#include "model/checkpoint.h"

namespace lmpack {

struct HfTensor {
  TensorInfo info;   // under its HF name
  std::string file;  // the safetensors file it came from (for errors)
};

// Replaces every quantized linear's tensors in `tensors` by its dequantized
// <prefix>.weight; a folder without .qweight tensors is left untouched.
// Throws Error(file, ...) naming the tensor for a missing qzeros/scales, a
// wrong shape or dtype, a g_idx entry out of range, and Error(config file,
// ...) for a missing or unsupported quantization config (quant_method, bits,
// version, checkpoint_format).
void dequantize_hf_int_linears(const std::string& dir, std::vector<HfTensor>& tensors, Checkpoint& ckpt);

// Where a quantization config's text came from, which decides where the
// settings sit and the default quant_method.
enum class HfQuantSource {
  kConfigJson,      // config.json: under "quantization_config"
  kQuantizeConfig,  // AutoGPTQ's quantize_config.json: top level, default gptq
  kQuantConfig,     // AutoAWQ's quant_config.json: top level, default awq
};
struct HfQuantConfigText {
  std::string text;
  std::string where;  // the file, for messages
  HfQuantSource source = HfQuantSource::kConfigJson;
};

// A dequantized linear: an F32 {out, in} tensor `name` over `values`, which
// the checkpoint keeps alive (for load_hf_compressed.cpp as well).
HfTensor dequantized_hf_tensor(const std::string& name, const std::string& file, int64_t out, int64_t in,
                               std::shared_ptr<std::vector<float>> values, Checkpoint& ckpt);

// The same with the config given as text instead of looked up in a folder
// (tests, fuzzing).
void dequantize_hf_int_linears(const HfQuantConfigText& config, std::vector<HfTensor>& tensors, Checkpoint& ckpt);
// Parses and checks a quantization config on its own; throws what
// dequantize_hf_int_linears would for it.
void check_hf_quant_config(const HfQuantConfigText& config);

}  // namespace lmpack
