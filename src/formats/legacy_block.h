// Per-block steps that several 32-element legacy formats share: the range
// scans of the plain (no importance) encoders — the signed value of largest
// magnitude for the symmetric Q4_0/Q5_0, the minimum and maximum for the
// affine Q4_1/Q5_1 — and the 5-bit packing of Q5_0/Q5_1 (low nibbles in
// qs[16], fifth bits in the 32-bit little-endian qh). Each format's file
// keeps its own block layout, scale formula and rounding; these helpers are
// defined in formats/legacy_block.cpp, built without FMA contraction like
// every encoder file so that the bytes match GGML's.
#pragma once

#include <cstdint>

namespace lmpack {

// The x[j] of largest |x[j]| (the first one on ties; 0 for an all-zero
// block or when every |x[j]| compares false, as with NaN), j < 32.
float block_signed_absmax(const float* x);

// *min = min_j x[j], *max = max_j x[j], j < 32, scanned from x[0] with
// std::min / std::max.
void block_min_max(const float* x, float* min, float* max);

// The 32 fifth bits of a Q5 block as one word (bit j = element j).
uint32_t load_qh_q5(const uint8_t* qh);

// Packs 32 five-bit levels l[32] into qs[16] (element j in the low nibble of
// qs[j], element j + 16 in its high nibble) and qh[4] (fifth bits).
void pack_5bit(uint8_t* qs, uint8_t* qh, const uint8_t* l);

// The inverse: the 32 levels 0..31 of a block into l[32].
void unpack_5bit(int* l, const uint8_t* qs, const uint8_t* qh);

// The row grid (formats/format.h RowGridFn) of a legacy row of n / 32 blocks
// of block_bytes bytes, each starting with its fp16 scale d and, when
// has_min, its fp16 min m: element j holds d·q + m (offset -0.0f without a
// min, so that d·q + offset is the decoded value bit for bit).
void legacy_row_grid(float* scale, float* offset, const void* row, int64_t n, int64_t block_bytes, bool has_min);

}  // namespace lmpack
