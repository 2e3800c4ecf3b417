// Reading compressed-tensors "pack-quantized" linears of a Hugging Face folder
// (llm-compressor's W4A16 / W8A16 checkpoints, and lmpack's own
// --format compressed-tensors; layouts in formats/int_packing.h and
// pipeline/export_int_hf.h) back into plain F32 weights, for load_hf.cpp.
//
// A linear stored as <prefix>.weight_packed, .weight_scale, .weight_shape
// (and .weight_zero_point when asymmetric, .weight_g_idx with group act
// order) is unpacked and dequantized, w[o][c] = scale[o][g] · (q[o][c] -
// zero[o][g]) with unsigned codes and zero points (2^(bits-1) when
// symmetric) and g = g_idx[c] or c / group_size, into an F32 <prefix>.weight
// {out, in} whose buffer the checkpoint keeps alive. The settings come from
// config.json's quantization_config: quant_method "compressed-tensors",
// format "pack-quantized", every config group's weights {num_bits 4 or 8,
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
// wrong shape or dtype, a g_idx entry out of range, and Error(config.json,
// ...) naming the key for a configuration lmpack does not read (another
// format, float types, differing groups, activation quantization).
void dequantize_compressed_tensors_linears(const HfQuantConfigText& config, std::vector<HfTensor>& tensors,
                                           Checkpoint& ckpt);

}  // namespace lmpack
