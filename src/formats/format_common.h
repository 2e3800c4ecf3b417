// Shared facts of the GGUF/GGML block formats: block sizes and the 6-bit
// scale/min packing used by Q4_K and Q5_K.
//
// Every format lives in its own file pair (formats/q4_k.h + .cpp): a plain
// block struct whose bytes are exactly GGML's (static_assert on sizeof), a
// comment stating the bit layout, and row functions named
// dequantize_row_<fmt> (decoders), quantize_row_<fmt> (encoders) and
// dot_<fmt>_<fmt> (dot products) as they are added. Row functions take
// outputs first, then inputs, then n (elements, a multiple of the block size).
// All multi-byte fields are little-endian; fp16 fields hold IEEE half bits.
#pragma once

#include <cstdint>

namespace lmpack {

constexpr int64_t kQK = 32;        // elements per block of the legacy formats (Q4_0 ... Q8_0)
constexpr int64_t kQK_K = 256;     // elements per super-block of the k-quants
constexpr int kKScaleBytes = 12;   // Q4_K/Q5_K: 8 scales + 8 mins, 6 bits each
// Below this max |x| (or max |scale|) a block counts as all zero, as GGML's
// GROUP_MAX_EPS: the encoders and scale searches store zeros for it.
constexpr float kGroupMaxEps = 1e-15f;

// Q4_K/Q5_K scales[12]: sub-block j (0..7) has a 6-bit scale and a 6-bit min.
//   j < 4:  scale = scales[j] & 63,        min = scales[j + 4] & 63
//   j >= 4: scale = (scales[j + 4] & 15) | (scales[j - 4] >> 6) << 4
//           min   = (scales[j + 4] >> 4) | (scales[j] >> 6) << 4
// i.e. bytes 0..3 hold scales 0..3 in their low 6 bits, bytes 4..7 mins 0..3,
// bytes 8..11 the low nibbles of scales 4..7 (low) and mins 4..7 (high), and
// the top two bits of bytes 0..3 / 4..7 carry the high bits of scales / mins 4..7.
inline void unpack_scale_min_k4(int j, const uint8_t* scales, uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = scales[j] & 63;
    *min = scales[j + 4] & 63;
  } else {
    *scale = static_cast<uint8_t>((scales[j + 4] & 15) | ((scales[j - 4] >> 6) << 4));
    *min = static_cast<uint8_t>((scales[j + 4] >> 4) | ((scales[j] >> 6) << 4));
  }
}

// The inverse: packs 8 scales and 8 mins (each 0..63) into 12 bytes.
inline void pack_scale_min_k4(uint8_t* scales, const uint8_t* scale, const uint8_t* min) {
  for (int j = 0; j < 4; ++j) {
    scales[j] = static_cast<uint8_t>((scale[j] & 63) | ((scale[j + 4] >> 4) << 6));
    scales[j + 4] = static_cast<uint8_t>((min[j] & 63) | ((min[j + 4] >> 4) << 6));
    scales[j + 8] = static_cast<uint8_t>((scale[j + 4] & 15) | ((min[j + 4] & 15) << 4));
  }
}

// The row grid (formats/format.h RowGridFn) of one Q3_K/Q6_K block: 16
// sub-blocks of 16 elements with symmetric codes, element j holding
// d·sc[j / 16]·q (offset -0.0f, so that scale·q + offset is the decoded value
// bit for bit). scale, offset: [256] out; sc: [16] signed sub-block scales.
inline void grid_symmetric_16x16(float* scale, float* offset, float d, const int8_t* sc) {
  for (int s = 0; s < 16; ++s) {
    const float ds = d * static_cast<float>(sc[s]);
    for (int i = 0; i < 16; ++i) {
      scale[16 * s + i] = ds;
      offset[16 * s + i] = -0.0f;
    }
  }
}

}  // namespace lmpack
