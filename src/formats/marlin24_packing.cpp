#include "formats/marlin24_packing.h"

#include "core/error.h"
#include "core/parallel.h"

namespace lmpack {
namespace {

constexpr int64_t kTile = 16;         // Marlin's tile: 16 x 16 values
constexpr int64_t kPermLength = 1024;  // a permutation run: four tiles of a line

void check_shape(int64_t out, int64_t in, int bits) {
  LMPACK_CHECK(bits == 4 || bits == 8, cat("marlin-24 packing: ", bits, " bits"));
  LMPACK_CHECK(marlin24_layout_fits(out, in), cat("marlin-24 packing: shape [", out, ", ", in, "]"));
}

// The two kept positions of a group of four with non-zero flags m0..m3 (m2
// takes no part): the published encoding, i0 in bits 0-1, i1 in bits 2-3.
uint16_t pair_nibble(bool m0, bool m1, bool m3) {
  const bool e0 = m0 && m1, e1 = !m0 && m1, e2 = !m0 && !m1;
  const unsigned i0 = unsigned{e1} | unsigned{e2} << 1;
  const unsigned i1 = unsigned{e0 || e2 || m3} | unsigned{e1 || !m1} << 1;
  return static_cast<uint16_t>(i0 | i1 << 2);
}

// Position of q[k][n] (k < K/2) in its line of 16N values, before the permutation.
int64_t line_position(int64_t k, int64_t n) { return (n / kTile) * kTile * kTile + (k % kTile) * kTile + n % kTile; }

}  // namespace

bool marlin24_layout_fits(int64_t out, int64_t in) { return out > 0 && in > 0 && out % 64 == 0 && in % 32 == 0; }
int64_t marlin24_packed_rows(int64_t in) { return in / 32; }
int64_t marlin24_packed_cols(int64_t out, int bits) { return out * bits / 2; }
int64_t marlin24_meta_rows(int64_t in) { return in / 32; }
int64_t marlin24_meta_cols(int64_t out) { return 2 * out; }

std::vector<int32_t> marlin24_weight_permutation(int bits) {
  LMPACK_CHECK(bits == 4 || bits == 8, cat("marlin-24 permutation: ", bits, " bits"));
  // 32 threads; thread i reads, for each of 4 consecutive columns, the rows
  // 2(i%4), 2(i%4)+1, 2(i%4+4), 2(i%4+4)+1 of two 4-column blocks.
  std::vector<int32_t> perm;
  perm.reserve(kPermLength);
  for (int32_t i = 0; i < 32; ++i) {
    const int32_t col = i / 4, col_o = col / 2;
    int32_t first[8];
    int f = 0;
    for (int32_t block = 0; block < 2; ++block)
      for (int32_t row : {2 * (i % 4), 2 * (i % 4) + 1, 2 * (i % 4 + 4), 2 * (i % 4 + 4) + 1})
        first[f++] = 16 * row + col_o * 256 + 8 * (col % 2) + 4 * block;
    for (int32_t j = 0; j < 4; ++j)
      for (int32_t p : first) perm.push_back(p + j);
  }
  // The values of one word, in the order the kernel unpacks them.
  static constexpr int kInterleave4[8] = {0, 2, 4, 6, 1, 3, 5, 7};
  static constexpr int kInterleave8[4] = {0, 2, 1, 3};
  const int* inter = bits == 4 ? kInterleave4 : kInterleave8;
  const int width = bits == 4 ? 8 : 4;
  std::vector<int32_t> out(perm.size());
  for (size_t base = 0; base < perm.size(); base += width)
    for (int j = 0; j < width; ++j) out[base + j] = perm[base + inter[j]];
  return out;
}

int64_t marlin24_meta_offset(int64_t r, int64_t c, int64_t out) {
  int64_t row = r / 64 * 64 + (r % 2) * 2 + (r % 8) / 4 + (r % 4) / 2 * 32 + (r % 64) / 8 * 4;
  int64_t col = c;
  if (row % 2 == 0 && col % 2 == 1) {
    ++row;
    --col;
  } else if (row % 2 == 1 && col % 2 == 0) {
    --row;
    ++col;
  }
  return (col / 2) * out * 2 + row * 2 + col % 2;
}

int64_t pack_marlin24(int32_t* weight_packed, int16_t* meta, const uint8_t* codes, int64_t out, int64_t in,
                      int bits) {
  check_shape(out, in, bits);
  const uint8_t zero = static_cast<uint8_t>(1 << (bits - 1));
  const int64_t half = in / 2, quads = in / 4, meta_cols = in / 16;
  // Steps 1 and 2: the kept codes, transposed to [K/2, N], and the meta words.
  std::vector<uint8_t> kept(static_cast<size_t>(half * out));
  std::vector<int64_t> first_bad(static_cast<size_t>(out), -1);
  parallel_for(out, [&](int64_t r) {
    const uint8_t* row = codes + r * in;
    for (int64_t c = 0; c < meta_cols; ++c) {
      uint16_t word = 0;
      for (int64_t j = 0; j < 4; ++j) {
        const int64_t q = 4 * c + j;
        const uint8_t* g = row + 4 * q;
        const bool m0 = g[0] != zero, m1 = g[1] != zero, m2 = g[2] != zero, m3 = g[3] != zero;
        if (int{m0} + int{m1} + int{m2} + int{m3} > 2 && first_bad[r] < 0) first_bad[r] = q;
        const uint16_t nibble = pair_nibble(m0, m1, m3);
        kept[(2 * q) * out + r] = g[nibble & 3];
        kept[(2 * q + 1) * out + r] = g[nibble >> 2];
        word = static_cast<uint16_t>(word | nibble << (4 * j));
      }
      meta[marlin24_meta_offset(r, c, out)] = static_cast<int16_t>(word);
    }
  });
  for (int64_t r = 0; r < out; ++r)
    if (first_bad[r] >= 0) return r * quads + first_bad[r];
  // Step 3: tiles, the permutation, words.
  const std::vector<int32_t> perm = marlin24_weight_permutation(bits);
  const int64_t line = kTile * out, pf = 32 / bits, words = line / pf;
  parallel_for(half / kTile, [&](int64_t R) {
    std::vector<uint8_t> tiled(static_cast<size_t>(line));
    for (int64_t kk = 0; kk < kTile; ++kk) {
      const int64_t k = R * kTile + kk;
      for (int64_t n = 0; n < out; ++n) tiled[line_position(k, n)] = kept[k * out + n];
    }
    int32_t* dst = weight_packed + R * words;
    for (int64_t w = 0; w < words; ++w) {
      uint32_t word = 0;
      for (int64_t i = 0; i < pf; ++i) {
        const int64_t x = w * pf + i, run = x / kPermLength * kPermLength;
        word |= uint32_t{tiled[run + perm[x % kPermLength]]} << (bits * i);
      }
      dst[w] = static_cast<int32_t>(word);
    }
  });
  return -1;
}

int64_t unpack_marlin24(uint8_t* codes, const int32_t* weight_packed, const int16_t* meta, int64_t out, int64_t in,
                        int bits) {
  check_shape(out, in, bits);
  const uint8_t zero = static_cast<uint8_t>(1 << (bits - 1));
  const int64_t half = in / 2, quads = in / 4, meta_cols = in / 16;
  const std::vector<int32_t> perm = marlin24_weight_permutation(bits);
  const int64_t line = kTile * out, pf = 32 / bits, words = line / pf;
  const uint32_t mask = (uint32_t{1} << bits) - 1;
  std::vector<uint8_t> kept(static_cast<size_t>(half * out));
  parallel_for(half / kTile, [&](int64_t R) {
    std::vector<uint8_t> tiled(static_cast<size_t>(line));
    const int32_t* src = weight_packed + R * words;
    for (int64_t w = 0; w < words; ++w) {
      const uint32_t word = static_cast<uint32_t>(src[w]);
      for (int64_t i = 0; i < pf; ++i) {
        const int64_t x = w * pf + i, run = x / kPermLength * kPermLength;
        tiled[run + perm[x % kPermLength]] = static_cast<uint8_t>((word >> (bits * i)) & mask);
      }
    }
    for (int64_t kk = 0; kk < kTile; ++kk) {
      const int64_t k = R * kTile + kk;
      for (int64_t n = 0; n < out; ++n) kept[k * out + n] = tiled[line_position(k, n)];
    }
  });
  std::vector<int64_t> first_bad(static_cast<size_t>(out), -1);
  parallel_for(out, [&](int64_t r) {
    uint8_t* row = codes + r * in;
    for (int64_t c = 0; c < meta_cols; ++c) {
      const uint16_t word = static_cast<uint16_t>(meta[marlin24_meta_offset(r, c, out)]);
      for (int64_t j = 0; j < 4; ++j) {
        const int64_t q = 4 * c + j;
        const unsigned i0 = (word >> (4 * j)) & 3, i1 = (word >> (4 * j + 2)) & 3;
        uint8_t* g = row + 4 * q;
        g[0] = g[1] = g[2] = g[3] = zero;
        if (i0 >= i1) {
          if (first_bad[r] < 0) first_bad[r] = q;
          continue;
        }
        g[i0] = kept[(2 * q) * out + r];
        g[i1] = kept[(2 * q + 1) * out + r];
      }
    }
  });
  for (int64_t r = 0; r < out; ++r)
    if (first_bad[r] >= 0) return r * quads + first_bad[r];
  return -1;
}

namespace {

// Step 4's permutation of a run of 64 scales (the identity with one group).
int64_t scale_source(int64_t j, bool grouped) {
  static constexpr int kOrder[8] = {0, 4, 1, 5, 2, 6, 3, 7};
  return grouped ? j / 8 * 8 + kOrder[j % 8] : j;
}

}  // namespace

void permute_marlin24_scales(float* packed, const float* scales, int64_t n_groups, int64_t out) {
  const int64_t n = n_groups * out;
  LMPACK_CHECK(n > 0 && n % 64 == 0, cat("marlin-24 scales: ", n_groups, " x ", out));
  for (int64_t run = 0; run < n; run += 64)
    for (int64_t j = 0; j < 64; ++j) packed[run + j] = scales[run + scale_source(j, n_groups > 1)];
}

void unpermute_marlin24_scales(float* scales, const float* packed, int64_t n_groups, int64_t out) {
  const int64_t n = n_groups * out;
  LMPACK_CHECK(n > 0 && n % 64 == 0, cat("marlin-24 scales: ", n_groups, " x ", out));
  for (int64_t run = 0; run < n; run += 64)
    for (int64_t j = 0; j < 64; ++j) scales[run + scale_source(j, n_groups > 1)] = packed[run + j];
}

}  // namespace lmpack
