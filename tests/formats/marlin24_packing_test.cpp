// compressed-tensors' marlin-24 layout (formats/marlin24_packing.h): the
// permutation, the meta placement, the words and the scales of small
// matrices worked out by hand from the published description; round trips
// of random 2:4 codes at 4 and 8 bits; groups of four with three codes and
// meta nibbles naming no pair are reported where they are.
#include "formats/marlin24_packing.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace lmpack {
namespace {

TEST(Marlin24Packing, ShapesThatFit) {
  EXPECT_TRUE(marlin24_layout_fits(64, 32));
  EXPECT_TRUE(marlin24_layout_fits(768, 256));
  EXPECT_FALSE(marlin24_layout_fits(32, 32));   // meta rows go in runs of 64
  EXPECT_FALSE(marlin24_layout_fits(64, 16));   // meta columns go in pairs (16 inputs each)
  EXPECT_FALSE(marlin24_layout_fits(64, 172));  // stories260K's down projection
  EXPECT_FALSE(marlin24_layout_fits(0, 32));
  EXPECT_EQ(marlin24_packed_rows(256), 8);
  EXPECT_EQ(marlin24_packed_cols(128, 4), 256);
  EXPECT_EQ(marlin24_packed_cols(128, 8), 512);
  EXPECT_EQ(marlin24_meta_rows(256), 8);
  EXPECT_EQ(marlin24_meta_cols(128), 256);
}

// perm1 of thread i: rows 2(i%4), 2(i%4)+1, 2(i%4+4), 2(i%4+4)+1 (·16) of
// column block 8(col%2) + 256⌊col/2⌋ (col = ⌊i/4⌋), then + 4; four copies
// shifted by 0..3; each word's values interleaved 0,2,4,6,1,3,5,7.
TEST(Marlin24Packing, PermutationByHand) {
  const std::vector<int32_t> p4 = marlin24_weight_permutation(4);
  ASSERT_EQ(p4.size(), 1024u);
  const std::vector<int32_t> first = {0, 128, 4, 132, 16, 144, 20, 148, 1, 129, 5, 133, 17, 145, 21, 149};
  EXPECT_EQ(std::vector<int32_t>(p4.begin(), p4.begin() + 16), first);
  EXPECT_EQ(std::vector<int32_t>(p4.begin() + 32, p4.begin() + 40),
            (std::vector<int32_t>{32, 160, 36, 164, 48, 176, 52, 180}));  // thread 1
  EXPECT_EQ(std::vector<int32_t>(p4.begin() + 128, p4.begin() + 136),
            (std::vector<int32_t>{8, 136, 12, 140, 24, 152, 28, 156}));  // thread 4: second column block
  EXPECT_EQ(std::vector<int32_t>(p4.begin() + 256, p4.begin() + 264),
            (std::vector<int32_t>{256, 384, 260, 388, 272, 400, 276, 404}));  // thread 8: second tile
  const std::vector<int32_t> p8 = marlin24_weight_permutation(8);
  EXPECT_EQ(std::vector<int32_t>(p8.begin(), p8.begin() + 8), (std::vector<int32_t>{0, 128, 16, 144, 4, 132, 20, 148}));
  std::vector<int> seen(1024);  // both are permutations
  for (int32_t v : p4) ++seen[v];
  for (int32_t v : p8) ++seen[v];
  for (int c : seen) ASSERT_EQ(c, 2);
}

TEST(Marlin24Packing, MetaPlacementByHand) {
  // r' = 64⌊r/64⌋ + 2(r%2) + ⌊(r%8)/4⌋ + 32⌊(r%4)/2⌋ + 4⌊(r%64)/8⌋, then the
  // 2x2 swap, then (c'/2)·2N + 2r' + c'%2.
  EXPECT_EQ(marlin24_meta_offset(0, 0, 64), 0);
  EXPECT_EQ(marlin24_meta_offset(0, 1, 64), 2);    // r' 0 even, c 1 odd: (1, 0)
  EXPECT_EQ(marlin24_meta_offset(1, 0, 64), 4);    // r' 2
  EXPECT_EQ(marlin24_meta_offset(4, 0, 64), 1);    // r' 1 odd, c 0 even: (0, 1)
  EXPECT_EQ(marlin24_meta_offset(2, 1, 64), 66);   // r' 32, swapped to (33, 0)
  EXPECT_EQ(marlin24_meta_offset(9, 0, 64), 12);   // r' 2 + 4 = 6
  EXPECT_EQ(marlin24_meta_offset(63, 0, 64), 125); // r' 63 odd: (62, 1)
  EXPECT_EQ(marlin24_meta_offset(63, 1, 64), 127); // r' 63, c 1: no swap
  EXPECT_EQ(marlin24_meta_offset(0, 2, 64), 128);  // the next pair of columns
  EXPECT_EQ(marlin24_meta_offset(64, 0, 128), 128); // the next run of 64 rows
}

// A [64, 32] 4-bit matrix, every code 8 (zero) but rows 0 and 9:
//   row 0: inputs 0..3 = 3 8 8 12 (pair 0,3: nibble 0b1100), 4..7 = 8 5 9 8 (pair 1,2: 0b1001)
//   row 9: inputs 0..3 = 8 2 8 15 (pair 1,3: 0b1101)
// Groups of zeros take the fallback pair 2,3 (0b1110).
TEST(Marlin24Packing, SmallMatrixByHand) {
  const int64_t out = 64, in = 32;
  std::vector<uint8_t> codes(out * in, 8);
  const uint8_t row0[8] = {3, 8, 8, 12, 8, 5, 9, 8};
  for (int i = 0; i < 8; ++i) codes[i] = row0[i];
  const uint8_t row9[4] = {8, 2, 8, 15};
  for (int i = 0; i < 4; ++i) codes[9 * in + i] = row9[i];
  std::vector<int32_t> packed(marlin24_packed_rows(in) * marlin24_packed_cols(out, 4));
  std::vector<int16_t> meta(marlin24_meta_rows(in) * marlin24_meta_cols(out));
  ASSERT_EQ(packed.size(), 128u);
  ASSERT_EQ(meta.size(), 128u);
  ASSERT_EQ(pack_marlin24(packed.data(), meta.data(), codes.data(), out, in, 4), -1);

  // meta: row 0 column 0 holds groups 0..3 = 0b1100, 0b1001, 0b1110, 0b1110 at offset 0;
  // row 9 column 0 = 0b1101 then three 0b1110 at offset 12; every other word 0xEEEE.
  for (size_t i = 0; i < meta.size(); ++i) {
    const uint16_t want = i == 0 ? 0xEE9C : i == 12 ? 0xEEED : 0xEEEE;
    ASSERT_EQ(static_cast<uint16_t>(meta[i]), want) << i;
  }
  // Kept codes, transposed: k'[0..3][n 0] = 3 12 5 9 (tile positions 0, 16, 32, 48),
  // k'[0..1][n 9] = 2 15 (positions 9, 25). The permutation puts position 0 in
  // word 0 nibble 0, 16 in word 0 nibble 4, 32 and 48 in word 4 nibbles 0 and
  // 4, 9 and 25 in word 17 nibbles 0 and 4 (PermutationByHand).
  for (size_t w = 0; w < packed.size(); ++w) {
    const uint32_t want = w == 0 ? 0x888C8883u : w == 4 ? 0x88898885u : w == 17 ? 0x888F8882u : 0x88888888u;
    ASSERT_EQ(static_cast<uint32_t>(packed[w]), want) << w;
  }
  std::vector<uint8_t> back(codes.size());
  ASSERT_EQ(unpack_marlin24(back.data(), packed.data(), meta.data(), out, in, 4), -1);
  EXPECT_EQ(back, codes);
}

TEST(Marlin24Packing, ScalesByHand) {
  // Two groups of 64 outputs: each run of 64 read as i·8 + {0,4,1,5,2,6,3,7}.
  std::vector<float> s(128), p(128), back(128);
  for (int i = 0; i < 128; ++i) s[i] = static_cast<float>(i);
  permute_marlin24_scales(p.data(), s.data(), 2, 64);
  EXPECT_EQ(std::vector<float>(p.begin(), p.begin() + 10), (std::vector<float>{0, 4, 1, 5, 2, 6, 3, 7, 8, 12}));
  EXPECT_EQ(p[64], 64);
  EXPECT_EQ(p[65], 68);
  unpermute_marlin24_scales(back.data(), p.data(), 2, 64);
  EXPECT_EQ(back, s);
  // One group (per channel): as they are.
  permute_marlin24_scales(p.data(), s.data(), 1, 128);
  EXPECT_EQ(p, s);
}

// Random codes with exactly, at most and fewer than two non-zeros per four.
std::vector<uint8_t> random_24(int64_t out, int64_t in, int bits, uint32_t seed) {
  std::mt19937 rng(seed);
  const int zero = 1 << (bits - 1), maxq = (1 << bits) - 1;
  std::vector<uint8_t> c(out * in, static_cast<uint8_t>(zero));
  for (int64_t g = 0; g < out * in / 4; ++g) {
    const int keep = static_cast<int>(rng() % 3);  // 0, 1 or 2 non-zeros
    int a = static_cast<int>(rng() % 4), b = static_cast<int>(rng() % 3);
    if (b >= a) ++b;
    for (int pos : {a, b}) {
      if (pos == b && keep < 2) continue;
      if (pos == a && keep < 1) continue;
      int v;
      do v = static_cast<int>(rng() % (maxq + 1)); while (v == zero);
      c[4 * g + pos] = static_cast<uint8_t>(v);
    }
  }
  return c;
}

TEST(Marlin24Packing, RoundTripsAtBothWidths) {
  for (int bits : {4, 8})
    for (auto [out, in] : {std::pair<int64_t, int64_t>{64, 32}, {128, 256}, {192, 96}, {768, 256}}) {
      SCOPED_TRACE(testing::Message() << bits << " bits, " << out << " x " << in);
      const std::vector<uint8_t> codes = random_24(out, in, bits, static_cast<uint32_t>(out * 7 + in + bits));
      std::vector<int32_t> packed(marlin24_packed_rows(in) * marlin24_packed_cols(out, bits));
      std::vector<int16_t> meta(marlin24_meta_rows(in) * marlin24_meta_cols(out));
      ASSERT_EQ(pack_marlin24(packed.data(), meta.data(), codes.data(), out, in, bits), -1);
      std::vector<uint8_t> back(codes.size());
      ASSERT_EQ(unpack_marlin24(back.data(), packed.data(), meta.data(), out, in, bits), -1);
      ASSERT_EQ(back, codes);
    }
}

TEST(Marlin24Packing, ThreeCodesInFourAndBadMetaAreFound) {
  const int64_t out = 64, in = 64;
  std::vector<uint8_t> codes = random_24(out, in, 4, 3);
  codes[5 * in + 20] = 1, codes[5 * in + 21] = 2, codes[5 * in + 22] = 3;  // row 5, group 5
  std::vector<int32_t> packed(marlin24_packed_rows(in) * marlin24_packed_cols(out, 4));
  std::vector<int16_t> meta(marlin24_meta_rows(in) * marlin24_meta_cols(out));
  EXPECT_EQ(pack_marlin24(packed.data(), meta.data(), codes.data(), out, in, 4), 5 * (in / 4) + 5);

  codes = random_24(out, in, 4, 4);
  ASSERT_EQ(pack_marlin24(packed.data(), meta.data(), codes.data(), out, in, 4), -1);
  // Row 9's first meta word, group 1: nibble 0b0101 (pair 1, 1) names no pair.
  int16_t& w = meta[marlin24_meta_offset(9, 0, out)];
  w = static_cast<int16_t>((static_cast<uint16_t>(w) & ~0x00F0u) | 0x0050u);
  std::vector<uint8_t> back(codes.size());
  EXPECT_EQ(unpack_marlin24(back.data(), packed.data(), meta.data(), out, in, 4), 9 * (in / 4) + 1);
}

}  // namespace
}  // namespace lmpack
