// The "marlin-24" layout of compressed-tensors (llm-compressor's 2:4 sparse
// + int4 checkpoints; vLLM runs them with its gptq_marlin_24 kernel):
// symmetric integer codes of a [out, in] linear whose every four consecutive
// inputs of a row hold at most two codes other than the zero, 2^(bits-1).
// Pure bit layout on raw arrays, for the exporter and the loader; written
// from the public compressor (compressed-tensors'
// compressors/sparse_quantized_compressors/marlin_24.py with
// utils/semi_structured_conversions.py and utils/permutations_24.py), not
// from its code. With N = out, K = in, pf = 32 / bits:
//
// 1. 2:4 compression (CUTLASS's semi-structured form). Row r, group of four q
//    (inputs 4q .. 4q+3), flags m_j = (code != zero): two positions
//    i0 < i1 are kept, chosen by the published Boolean functions
//      i0 = (!m0 & m1) | (!m0 & !m1) << 1
//      i1 = ((m0 & m1) | (!m0 & !m1) | m3) | ((!m0 & m1) | !m1) << 1
//    (the two non-zero positions when there are two; fixed fallbacks when
//    there are fewer). sparse[r][2q] = code[4q + i0], sparse[r][2q+1] =
//    code[4q + i1], and the nibble i0 | i1 << 2 goes into bits 4(q % 4) of the
//    16-bit meta[r][q / 4], meta [N, K/16].
// 2. Meta reordering (CUTLASS's ColumnMajorInterleaved<2>): meta[r][c] goes
//    to element (c' / 2)·2N + 2r' + c' % 2 of the flat int16 array, where
//      r' = 64⌊r/64⌋ + 2(r % 2) + ⌊(r % 8)/4⌋ + 32⌊(r % 4)/2⌋ + 4⌊(r % 64)/8⌋
//    and then (r', c') := (r' + 1, c - 1) when r' is even and c odd,
//    (r' - 1, c + 1) when r' is odd and c even, else (r', c). It is stored as
//    int16 `meta` [K/32, 2N].
// 3. Codes, transposed: q[k][n] = sparse[n][k], [K/2, N]. Cut into 16 x 16
//    tiles; row R = k / 16 of tiles lists tile n / 16 at 256·(n / 16) +
//    16·(k % 16) + n % 16 (a line of 16N values); each run of 1024 values of
//    a line is permuted by the Marlin 2:4 permutation P (new[x] =
//    old[P[x]], marlin24_weight_permutation) and packed pf values a word,
//    value i of a word in bits [bits·i, bits·(i+1)): int32 `weight_packed`
//    [K/32, N·bits/2].
// 4. Scales: fp16 `scale_packed` [n_groups, N] (transposed), each run of 64
//    values of the flat array permuted by i·8 + {0,4,1,5,2,6,3,7}[j] when
//    there is more than one group, left as they are per channel (one group).
//    That is vLLM's rule (its kernel reads groups so: group size < K). The
//    published compressor decides with group size < K/2 instead, which
//    differs only at K = 2·group size (K = 256 with groups of 128), where
//    its scales would be read wrongly by vLLM; lmpack writes and reads
//    vLLM's.
// The shapes need N % 64 == 0 and K % 32 == 0 (marlin24_layout_fits); vLLM's
// kernel itself wants N and K multiples of 128.
#pragma once

#include <cstdint>
#include <vector>

namespace lmpack {

// N % 64 == 0 and K % 32 == 0, both > 0.
bool marlin24_layout_fits(int64_t out, int64_t in);
// weight_packed's shape: {in / 32, out · bits / 2}.
int64_t marlin24_packed_rows(int64_t in);
int64_t marlin24_packed_cols(int64_t out, int bits);
// meta's shape: {in / 32, 2 · out}.
int64_t marlin24_meta_rows(int64_t in);
int64_t marlin24_meta_cols(int64_t out);

// The 1024-entry permutation of a line's values (step 3), bits 4 or 8.
std::vector<int32_t> marlin24_weight_permutation(int bits);
// Where meta[r][c] lands in the flat meta array (step 2), for N = out rows.
int64_t marlin24_meta_offset(int64_t r, int64_t c, int64_t out);

// Packs codes [out, in] (each < 2^bits; bits 4 or 8) into weight_packed
// [in/32, out·bits/2] and meta [in/32, 2·out]; the shapes must fit. Returns
// -1, or the index r·(in/4) + q of the first group of four that holds more
// than two codes other than 2^(bits-1) (nothing is then guaranteed written).
int64_t pack_marlin24(int32_t* weight_packed, int16_t* meta, const uint8_t* codes, int64_t out, int64_t in,
                      int bits);

// The inverse: codes [out, in], positions not kept set to 2^(bits-1).
// Returns -1, or the index r·(in/4) + q of the first group of four whose
// meta nibble names no valid pair (i0 < i1).
int64_t unpack_marlin24(uint8_t* codes, const int32_t* weight_packed, const int16_t* meta, int64_t out, int64_t in,
                        int bits);

// Step 4: scales [n_groups, out] (n_groups·out % 64 == 0) into
// scale_packed's order, and back (values moved, not changed).
void permute_marlin24_scales(float* packed, const float* scales, int64_t n_groups, int64_t out);
void unpermute_marlin24_scales(float* scales, const float* packed, int64_t n_groups, int64_t out);

}  // namespace lmpack
