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
// compressed-tensors "marlin-24" (llm-compressor's layout for 2:4 sparse
// int4 models, vLLM's W4A16Sparse24 scheme; formats/marlin24_packing.h):
//   weight_packed int32 [in/32, out·2]  the kept half of the codes, Marlin tiles
//   scale_packed  fp16  [n_groups, out] permuted
//   meta          int16 [in/32, 2·out]  which two of every four inputs are kept
// with "format": "marlin-24" and a "sparsity_config" {format "dense",
// sparsity_structure "2:4", global_sparsity (percent of all parameters),
// targets ["Linear"], ignore ["lm_head"]} (the sparsity lives in the
// quantized layout, as llm-compressor writes it). It needs 4 bits,
// symmetric, groups of 128 or per channel, no act order, no experts (vLLM's
// fused MoE reads pack-quantized only), linears whose widths are multiples of
// 128 (vLLM's kernel) and every quantized linear 2:4 sparse along its inputs.
// IntExportSpec::ct_layout kAuto takes marlin-24 when the model's linears
// are all 2:4 sparse and the rest fits, as llm-compressor infers its format,
// and pack-quantized otherwise (the report says why); kMarlin24 refuses what
// does not fit.
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
// compressed-tensors' layout of the integer linears.
enum class CtLayout { kAuto, kPackQuantized, kMarlin24 };

// "gptq", "awq", "compressed-tensors".
const char* int_export_format_name(IntExportFormat format);
// The inverse; nullopt for another word.
std::optional<IntExportFormat> parse_int_export_format(const std::string& name);
// "auto", "pack-quantized", "marlin-24", and the inverse.
const char* ct_layout_name(CtLayout layout);
std::optional<CtLayout> parse_ct_layout(const std::string& name);

struct IntExportSpec {
  IntExportFormat format = IntExportFormat::kGptq;
  int bits = 4;              // GPTQ: 2, 3, 4, 8; AWQ: 4; compressed-tensors: 4, 8
  int64_t group_size = 128;  // > 0, or -1 (per-channel; GPTQ and compressed-tensors)
  bool symmetric = false;    // GPTQ "sym", compressed-tensors "symmetric"; AWQ is always asymmetric
  bool act_order = false;    // GPTQ "desc_act", compressed-tensors actorder "weight" (static groups: g_idx = c / group_size)
  double damp = 0.01;        // GPTQ "damp_percent"
  std::string recipe;        // "lmpack_recipe" in quantization_config (pipeline/compress.h; "" : none)
  CtLayout ct_layout = CtLayout::kAuto;  // compressed-tensors only
};

// What an export wrote.
struct IntExportReport {
  std::string layout;  // "gptq", "awq", "pack-quantized" or "marlin-24"
  std::string note;    // compressed-tensors: why this layout ("" : asked for and fitting)
  double global_sparsity = 0.0;  // marlin-24: percent of all parameters that are zero
};

// compressed-tensors' layout for the model: marlin-24 or pack-quantized,
// with the reason (the first thing that rules marlin-24 out, or that every
// linear is 2:4). Reads every block linear once. Throws
// Error("export.ct_layout", ...) when kMarlin24 was asked for and does not
// fit; other formats: their name and no note.
IntExportReport choose_int_export_layout(const Checkpoint& ckpt, const IntExportSpec& spec);

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
// (model/hf_tokenizer_export.h); compressed-tensors in the layout
// choose_int_export_layout picks. The linear weights of every block come
// from tensors.take_matrix(name), integer groups (asked in block order);
// other blk.N.* tensors that tensors.handles() come from take_f32; the rest
// from the checkpoint. `chosen`: what choose_int_export_layout(ckpt, spec)
// returned, when the caller has it (null: chosen here; a matrix that breaks
// the layout is refused either way). marlin-24: a supplied matrix with three codes other
// than the zero in four inputs is an Error(out_dir, ...) naming the tensor,
// row and inputs (nothing is left written).
IntExportReport save_int_quantized_hf(const Checkpoint& ckpt, const std::string& out_dir, const IntExportSpec& spec,
                                      CalibratedTensors& tensors, const IntExportReport* chosen = nullptr);

}  // namespace lmpack
