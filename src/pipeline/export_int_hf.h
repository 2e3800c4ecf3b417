// Writing integer-group-quantized models as Hugging Face folders in the three
// public layouts that vLLM, transformers (optimum/gptqmodel, autoawq,
// compressed-tensors) read:
//
// GPTQ ("quant_method": "gptq", "checkpoint_format": "gptq"), per linear
// <prefix>.{qweight, qzeros, scales, g_idx} (formats/int_packing.h):
//   qweight int32 [in·bits/32, out]   codes packed along the input dimension
//   qzeros  int32 [n_groups, out·bits/32]  zero points minus one, packed along out
//   scales  fp16  [n_groups, out]
//   g_idx   int32 [in]                group of each input column
// plus quantize_config.json {bits, group_size, desc_act, sym, damp_percent,
// true_sequential, static_groups, quant_method, checkpoint_format} and the
// same object as "quantization_config" in config.json.
// AWQ GEMM ("quant_method": "awq", "version": "gemm", 4 bits, zero point):
//   qweight int32 [in, out/8], qzeros int32 [n_groups, out/8] packed along out
//   in the order 0,2,4,6,1,3,5,7; scales fp16 [n_groups, out]; zeros stored as is;
//   quant_config.json {zero_point, q_group_size, w_bit, version} and
//   "quantization_config" in config.json.
// compressed-tensors "pack-quantized" (llm-compressor's W4A16/W8A16, vLLM's
// native path), 4 or 8 bits, per group or per channel, symmetric or not:
//   weight_packed     int32 [out, ceil(in·bits/32)]  codes along the input dimension
//   weight_scale      fp16  [out, n_groups]
//   weight_zero_point int32 [ceil(out·bits/32), n_groups]  asymmetric only, along out
//   weight_shape      int64 [2] = {out, in}
// (formats/int_packing.h), and in config.json "quantization_config":
// {quant_method "compressed-tensors", format "pack-quantized",
// quantization_status "compressed", config_groups.group_0 {targets
// ["Linear"], weights {num_bits, type "int", symmetric, strategy "group" |
// "channel", group_size, actorder null | "weight", dynamic false}},
// ignore ["lm_head"]}. A symmetric grid's zero point must be 2^(bits-1) (the
// format has none). No side file.
// Everything else (embeddings, norms, lm_head) is written as F16 under the HF
// names, q/k rows permuted back to rotate-half order, as save_hf does.
// model.safetensors is streamed tensor by tensor; the folder is written
// atomically (core/atomic_folder.h): whole or not at all, an existing output
// folder swapped out only at the end, an output that is or holds the input
// refused.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "model/checkpoint.h"
#include "pipeline/calibrated_tensors.h"

namespace lmpack {

enum class IntExportFormat { kGptq, kAwq, kCompressedTensors };

// "gptq", "awq", "compressed-tensors".
const char* int_export_format_name(IntExportFormat format);
// The inverse; nullopt for another word.
std::optional<IntExportFormat> parse_int_export_format(const std::string& name);

struct IntExportSpec {
  IntExportFormat format = IntExportFormat::kGptq;
  int bits = 4;              // GPTQ: 2, 3, 4, 8; AWQ: 4; compressed-tensors: 4, 8
  int64_t group_size = 128;  // > 0, or -1 (per-channel; GPTQ and compressed-tensors)
  bool symmetric = false;    // GPTQ "sym", compressed-tensors "symmetric"; AWQ is always asymmetric
  bool act_order = false;    // GPTQ "desc_act", compressed-tensors actorder "weight" (static groups: g_idx = c / group_size)
  double damp = 0.01;        // GPTQ "damp_percent"
  std::string recipe;        // "lmpack_recipe" in quantization_config (pipeline/compress.h; "" : none)
};

// The checks that need no model: Error("export.format"/"export.bits"/
// "export.group_size"/"export.damp", ...) for combinations the layouts cannot
// hold (GPTQ bits other than 2, 3, 4, 8; AWQ with bits != 4, symmetric or per
// channel).
void validate_int_export_spec(const IntExportSpec& spec);

// validate_int_export_spec, then the model: in_features not a multiple of the
// group size or of 32/bits packing, out_features not a multiple of 32/bits for
// qzeros and AWQ's qweight. Called before anything is written.
void validate_int_export(const Checkpoint& ckpt, const IntExportSpec& spec);

// Writes out_dir/{config.json, quantize_config.json (GPTQ) or quant_config.json
// (AWQ), model.safetensors} and the tokenizer files
// (model/hf_tokenizer_export.h). The
// seven linear weights of every block come from tensors.take_matrix(name), integer groups, (asked
// in block order); other blk.N.* tensors that tensors.handles() come from
// take_f32; the rest from the checkpoint.
void save_int_quantized_hf(const Checkpoint& ckpt, const std::string& out_dir, const IntExportSpec& spec,
                           CalibratedTensors& tensors);

}  // namespace lmpack
