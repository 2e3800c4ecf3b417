// Integer code packing of the three public group-quantized safetensors layouts:
// GPTQ (AutoGPTQ's QuantLinear, "checkpoint_format": "gptq", read by vLLM's
// gptq method and transformers/optimum) and AWQ GEMM (AutoAWQ's WQLinear_GEMM,
// read by vLLM's awq method and transformers). Pure bit layout on raw arrays;
// what the codes mean (w = scale · (q - zero)) is the writer's and loader's.
//
// GPTQ, bits ∈ {2, 3, 4, 8}: the codes of one output column along the input
// dimension form one contiguous little-endian bit stream: value j occupies
// bits [j·bits, (j+1)·bits) of the stream, bit k of the stream is bit k % 32
// of word k / 32 (a 3-bit value may straddle two words; 32 values fill 3
// words). qweight int32 [in·bits/32, out]: column o of qweight is the stream
// of codes[o][0..in). qzeros int32 [n_groups, out·bits/32]: row g is the
// stream of (zero[g][o] - 1) & (2^bits - 1) along o (the zero-minus-one
// convention; readers add one back, so a zero point of 0 reads as 2^bits).
//
// AWQ GEMM, 4 bits: 8 values of one row go into one int32, output column
// 8k + kAwqOrder[i] in nibble i (bits [4i, 4i+4)). qweight int32 [in, out/8]
// (row c packs codes[·][c] along the output dimension); qzeros int32
// [n_groups, out/8] the same way, zero points stored as they are.
//
// compressed-tensors "pack-quantized" (llm-compressor, read by vLLM's
// compressed-tensors method), bits 4 or 8: 32/bits unsigned values per int32,
// value j of a packed line in bits [(j % pf)·bits, ...) of word j / pf
// (pf = 32/bits), the last word of a line zero-padded. weight_packed int32
// [out, ceil(in/pf)] packs each row along the input dimension;
// weight_zero_point int32 [ceil(out/pf), n_groups] packs each column of the
// [out, n_groups] zero points along the output dimension. The unsigned
// values are the signed ones plus 2^(bits-1), which makes them lmpack's codes
// and zero points as they are (w = scale · (q - zero) either way).
#pragma once

#include <cstdint>

namespace lmpack {

// Nibble i of an AWQ word holds column 8k + kAwqOrder[i].
inline constexpr int kAwqOrder[8] = {0, 2, 4, 6, 1, 3, 5, 7};

// True when n values of `bits` bits fill whole int32 words (n·bits % 32 == 0)
// and bits is 2, 3, 4 or 8.
bool gptq_packing_fits(int64_t n, int bits);
// Words holding n values: n·bits/32 (n must fit).
int64_t gptq_packed_words(int64_t n, int bits);

// qweight: [in·bits/32, out] int32; codes: [out, in], each < 2^bits.
void pack_gptq_qweight(int32_t* qweight, const uint8_t* codes, int64_t out, int64_t in, int bits);
// codes: [out, in]; qweight: [in·bits/32, out].
void unpack_gptq_qweight(uint8_t* codes, const int32_t* qweight, int64_t out, int64_t in, int bits);

// qzeros: [n_groups, out·bits/32] int32; zeros: [n_groups, out], each in
// [1, 2^bits] to round-trip (0 is stored as 2^bits - 1 and reads back as 2^bits).
void pack_gptq_qzeros(int32_t* qzeros, const int32_t* zeros, int64_t n_groups, int64_t out, int bits);
// zeros: [n_groups, out], each stored value + 1, in [1, 2^bits]; qzeros: [n_groups, out·bits/32].
void unpack_gptq_qzeros(int32_t* zeros, const int32_t* qzeros, int64_t n_groups, int64_t out, int bits);

// qweight: [in, out/8] int32; codes: [out, in], each < 16; out % 8 == 0.
void pack_awq_qweight(int32_t* qweight, const uint8_t* codes, int64_t out, int64_t in);
// codes: [out, in]; qweight: [in, out/8].
void unpack_awq_qweight(uint8_t* codes, const int32_t* qweight, int64_t out, int64_t in);

// qzeros: [n_groups, out/8] int32; zeros: [n_groups, out], each in [0, 15].
void pack_awq_qzeros(int32_t* qzeros, const int32_t* zeros, int64_t n_groups, int64_t out);
// zeros: [n_groups, out]; qzeros: [n_groups, out/8].
void unpack_awq_qzeros(int32_t* zeros, const int32_t* qzeros, int64_t n_groups, int64_t out);

// Words of a compressed-tensors line of n values: ceil(n / (32/bits)); bits 4 or 8.
int64_t ct_packed_words(int64_t n, int bits);
// packed: [rows, ct_packed_words(cols)]; values: [rows, cols], each < 2^bits.
void pack_ct_rows(int32_t* packed, const uint8_t* values, int64_t rows, int64_t cols, int bits);
// values: [rows, cols]; packed: [rows, ct_packed_words(cols)].
void unpack_ct_rows(uint8_t* values, const int32_t* packed, int64_t rows, int64_t cols, int bits);
// packed: [ct_packed_words(rows), cols]; values: [rows, cols], each in [0, 2^bits).
void pack_ct_columns(int32_t* packed, const int32_t* values, int64_t rows, int64_t cols, int bits);
// values: [rows, cols]; packed: [ct_packed_words(rows), cols].
void unpack_ct_columns(int32_t* values, const int32_t* packed, int64_t rows, int64_t cols, int bits);

}  // namespace lmpack
