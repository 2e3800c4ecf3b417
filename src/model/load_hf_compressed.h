// Reading compressed-tensors linears of a Hugging Face folder back into
// plain F32 weights, for load_hf.cpp: "pack-quantized" (llm-compressor's
// W4A16 / W8A16 checkpoints, and lmpack's own --format compressed-tensors;
// layouts in formats/int_packing.h and pipeline/export_int_hf.h) and
// "marlin-24" (2:4 sparse int4/int8, formats/marlin24_packing.h).
//
// pack-quantized: a linear stored as <prefix>.weight_packed, .weight_scale,
// .weight_shape (and .weight_zero_point when asymmetric, .weight_g_idx with
// group act order) is unpacked and dequantized, w[o][c] = scale[o][g] ·
// (q[o][c] - zero[o][g]) with unsigned codes and zero points (2^(bits-1)
// when symmetric) and g = g_idx[c] or c / group_size.
// marlin-24: <prefix>.weight_packed, .scale_packed, .meta (.weight_shape
// optional; the published compressor writes none): the shape comes from
// weight_packed, the kept codes go back to their positions (the others are
// the zero code), w[o][c] = scale[g][o] · (q[o][c] - 2^(bits-1)).
// Either becomes an F32 <prefix>.weight {out, in} whose buffer the
// checkpoint keeps alive. The settings come from config.json's
// quantization_config: quant_method "compressed-tensors", format
// "pack-quantized" or "marlin-24" (symmetric only), a sparsity_config (if
// any) of format "dense", every config group's weights {num_bits 4 or 8,
// type "int", strategy "group" or "channel", group_size, symmetric} alike.
#pragma once

#include <string>
#include <vector>

#include "model/checkpoint.h"
#include "model/load_hf_int.h"

namespace lmpack {

// Replaces every packed linear's tensors in `tensors` by its dequantized
// <prefix>.weight; a folder without .weight_packed tensors is left
// untouched. Throws Error(file, ...) naming the tensor for a missing part, a
// wrong shape or dtype, a g_idx entry out of range, a meta nibble that names
// no pair, a part of the other format, and Error(config.json,
// ...) naming the key for a configuration lmpack does not read (another
// format, float types, differing groups, activation quantization).
void dequantize_compressed_tensors_linears(const HfQuantConfigText& config, std::vector<HfTensor>& tensors,
                                           Checkpoint& ckpt);

}  // namespace lmpack
