// GPTQ, AWQ and compressed-tensors int32 packing (formats/int_packing.h): hand-computed words for
// each width (the 3-bit stream across word boundaries, the zero-minus-one
// convention, AWQ's nibble order), and round trips for every width on
// random codes with sizes that are not powers of two.
#include "formats/int_packing.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace lmpack {
namespace {

int32_t word(uint32_t u) { return static_cast<int32_t>(u); }

TEST(IntPacking, FitsPerWidth) {
  EXPECT_TRUE(gptq_packing_fits(8, 4));
  EXPECT_FALSE(gptq_packing_fits(172, 4));  // stories260K's ffn_down: 172·4 bits is not whole words
  EXPECT_TRUE(gptq_packing_fits(172, 8));
  EXPECT_FALSE(gptq_packing_fits(172, 2));
  EXPECT_TRUE(gptq_packing_fits(16, 2));
  EXPECT_FALSE(gptq_packing_fits(8, 2));
  EXPECT_TRUE(gptq_packing_fits(64, 3));
  EXPECT_FALSE(gptq_packing_fits(48, 3));  // 3 bits need 32 values per 3 words
  EXPECT_FALSE(gptq_packing_fits(64, 5));
  EXPECT_FALSE(gptq_packing_fits(64, 1));
  EXPECT_EQ(gptq_packed_words(64, 3), 6);
  EXPECT_EQ(gptq_packed_words(64, 4), 8);
  EXPECT_EQ(gptq_packed_words(64, 2), 4);
  EXPECT_EQ(gptq_packed_words(64, 8), 16);
}

TEST(IntPacking, Gptq4BitKnownWords) {
  // Two output columns of 8 inputs: column 0 holds 0..7, column 1 holds 8..15.
  std::vector<uint8_t> codes(16);
  for (int i = 0; i < 16; ++i) codes[i] = static_cast<uint8_t>(i);
  std::vector<int32_t> q(2);
  pack_gptq_qweight(q.data(), codes.data(), 2, 8, 4);
  EXPECT_EQ(q[0], word(0x76543210u));
  EXPECT_EQ(q[1], word(0xFEDCBA98u));
}

TEST(IntPacking, Gptq4BitPacksAlongInputPerColumn) {
  // out 3, in 16: qweight [2, 3]; word (r, o) holds inputs 8r..8r+7 of column o.
  std::vector<uint8_t> codes(3 * 16, 0);
  codes[1 * 16 + 9] = 0xA;   // column 1, input 9 -> word (1, 1), nibble 1
  codes[2 * 16 + 7] = 0x3;   // column 2, input 7 -> word (0, 2), nibble 7
  std::vector<int32_t> q(6);
  pack_gptq_qweight(q.data(), codes.data(), 3, 16, 4);
  EXPECT_EQ(q, (std::vector<int32_t>{0, 0, word(0x30000000u), 0, word(0xA0u), 0}));
}

TEST(IntPacking, Gptq3BitStreamCrossesWords) {
  std::vector<uint8_t> codes(32, 0);
  codes[0] = 1;   // bit 0 of word 0
  codes[10] = 7;  // bits 30..32: two low bits end word 0, the high bit starts word 1
  codes[21] = 5;  // bits 63..65: low bit ends word 1, 0b10 starts word 2
  codes[31] = 6;  // bits 93..95: the top of word 2
  std::vector<int32_t> q(3);
  pack_gptq_qweight(q.data(), codes.data(), 1, 32, 3);
  EXPECT_EQ(q[0], word(0xC0000001u));
  EXPECT_EQ(q[1], word(0x80000001u));
  EXPECT_EQ(q[2], word(0xC0000002u));
  std::vector<uint8_t> back(32);
  unpack_gptq_qweight(back.data(), q.data(), 1, 32, 3);
  EXPECT_EQ(back, codes);
}

TEST(IntPacking, Gptq2And8BitKnownWords) {
  std::vector<uint8_t> c2(16);
  for (int i = 0; i < 16; ++i) c2[i] = static_cast<uint8_t>(i % 4);
  int32_t q2 = 0;
  pack_gptq_qweight(&q2, c2.data(), 1, 16, 2);
  EXPECT_EQ(q2, word(0xE4E4E4E4u));
  const uint8_t c8[4] = {0x11, 0x22, 0x33, 0xF4};
  int32_t q8 = 0;
  pack_gptq_qweight(&q8, c8, 1, 4, 8);
  EXPECT_EQ(q8, word(0xF4332211u));
}

TEST(IntPacking, GptqZerosStoreZeroMinusOne) {
  std::vector<int32_t> zeros = {1, 2, 3, 4, 5, 6, 7, 8};  // one group, out 8
  int32_t qz = 0;
  pack_gptq_qzeros(&qz, zeros.data(), 1, 8, 4);
  EXPECT_EQ(qz, word(0x76543210u));
  std::vector<int32_t> back(8);
  unpack_gptq_qzeros(back.data(), &qz, 1, 8, 4);
  EXPECT_EQ(back, zeros);
  // Zero point 0 is stored as (0 - 1) & 15 = 15, which readers take as 16.
  zeros = {0, 1, 1, 1, 1, 1, 1, 16};
  pack_gptq_qzeros(&qz, zeros.data(), 1, 8, 4);
  EXPECT_EQ(qz, word(0xF000000Fu));
  unpack_gptq_qzeros(back.data(), &qz, 1, 8, 4);
  EXPECT_EQ(back, (std::vector<int32_t>{16, 1, 1, 1, 1, 1, 1, 16}));
}

TEST(IntPacking, AwqOrderKnownWords) {
  // out 8, in 1: column o holds code o; nibble i holds column order[i].
  std::vector<uint8_t> codes = {0, 1, 2, 3, 4, 5, 6, 7};
  int32_t q = 0;
  pack_awq_qweight(&q, codes.data(), 8, 1);
  EXPECT_EQ(q, word(0x75316420u));
  std::vector<int32_t> zeros = {0, 1, 2, 3, 4, 5, 6, 15};
  int32_t qz = 0;
  pack_awq_qzeros(&qz, zeros.data(), 1, 8);
  EXPECT_EQ(qz, word(0xF5316420u));
  std::vector<int32_t> zback(8);
  unpack_awq_qzeros(zback.data(), &qz, 1, 8);
  EXPECT_EQ(zback, zeros);
}

TEST(IntPacking, AwqPacksAlongOutputPerInputRow) {
  // out 16, in 2: qweight [2, 2]; word (c, k) holds columns 8k..8k+7 of input c.
  std::vector<uint8_t> codes(16 * 2, 0);
  codes[9 * 2 + 1] = 0xB;  // column 9 = 8·1 + 1 (nibble 4), input 1 -> word (1, 1)
  codes[6 * 2 + 0] = 0x2;  // column 6 (nibble 3), input 0 -> word (0, 0)
  std::vector<int32_t> q(4);
  pack_awq_qweight(q.data(), codes.data(), 16, 2);
  EXPECT_EQ(q, (std::vector<int32_t>{word(0x2000u), 0, 0, word(0xB0000u)}));
  std::vector<uint8_t> back(codes.size());
  unpack_awq_qweight(back.data(), q.data(), 16, 2);
  EXPECT_EQ(back, codes);
}

std::vector<uint8_t> random_codes(int64_t n, int bits, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(0, (1 << bits) - 1);
  std::vector<uint8_t> v(n);
  for (auto& x : v) x = static_cast<uint8_t>(d(rng));
  return v;
}

TEST(IntPacking, GptqRoundTripAllWidths) {
  for (int bits : {2, 3, 4, 8}) {
    const int64_t out = 96, in = 160;  // both multiples of 32; in = 5 units of 3-bit packing
    const std::vector<uint8_t> codes = random_codes(out * in, bits, 7 + bits);
    std::vector<int32_t> q(gptq_packed_words(in, bits) * out);
    pack_gptq_qweight(q.data(), codes.data(), out, in, bits);
    std::vector<uint8_t> back(codes.size());
    unpack_gptq_qweight(back.data(), q.data(), out, in, bits);
    EXPECT_EQ(back, codes) << bits << " bits";
    // Every bit of the packed words is used.
    int64_t ones = 0, expected_ones = 0;
    for (int32_t w : q) ones += __builtin_popcount(static_cast<uint32_t>(w));
    for (uint8_t c : codes) expected_ones += __builtin_popcount(c);
    EXPECT_EQ(ones, expected_ones) << bits << " bits";

    const int64_t n_groups = 5;
    std::vector<int32_t> zeros(n_groups * out);
    const std::vector<uint8_t> zc = random_codes(zeros.size(), bits, 99 + bits);
    for (size_t i = 0; i < zeros.size(); ++i) zeros[i] = zc[i] + 1;  // [1, 2^bits]
    std::vector<int32_t> qz(n_groups * gptq_packed_words(out, bits));
    pack_gptq_qzeros(qz.data(), zeros.data(), n_groups, out, bits);
    std::vector<int32_t> zback(zeros.size());
    unpack_gptq_qzeros(zback.data(), qz.data(), n_groups, out, bits);
    EXPECT_EQ(zback, zeros) << bits << " bits";
  }
}

TEST(IntPacking, AwqRoundTrip) {
  const int64_t out = 40, in = 24;
  const std::vector<uint8_t> codes = random_codes(out * in, 4, 3);
  std::vector<int32_t> q(in * out / 8);
  pack_awq_qweight(q.data(), codes.data(), out, in);
  std::vector<uint8_t> back(codes.size());
  unpack_awq_qweight(back.data(), q.data(), out, in);
  EXPECT_EQ(back, codes);
  // Word (c, k), nibble i is codes[8k + order[i]][c].
  for (int64_t c = 0; c < in; ++c)
    for (int64_t k = 0; k < out / 8; ++k)
      for (int i = 0; i < 8; ++i)
        ASSERT_EQ((static_cast<uint32_t>(q[c * (out / 8) + k]) >> (4 * i)) & 0xF,
                  codes[(8 * k + kAwqOrder[i]) * in + c]);
}

}  // namespace
}  // namespace lmpack

namespace lmpack {
namespace {

// compressed-tensors pack-quantized: the worked example of its pack_to_int32
// description (8 bits: signed [1, 2] -> unsigned [129, 130] -> padded
// [129, 130, 0, 0] -> 0b00000000'00000000'10000010'10000001 = 33409).
TEST(IntPacking, CompressedTensorsPublishedExample) {
  const std::vector<uint8_t> codes = {129, 130};
  int32_t w = 0;
  pack_ct_rows(&w, codes.data(), 1, 2, 8);
  EXPECT_EQ(w, 33409);
  std::vector<uint8_t> back(2);
  unpack_ct_rows(back.data(), &w, 1, 2, 8);
  EXPECT_EQ(back, codes);
}

// 4 bits: 8 values per word, value j in bits [4j, 4j+4); a row of 9 values
// takes two words, the second zero-padded; rows stay apart.
TEST(IntPacking, CompressedTensors4BitRowsAndPadding) {
  EXPECT_EQ(ct_packed_words(9, 4), 2);
  EXPECT_EQ(ct_packed_words(8, 4), 1);
  EXPECT_EQ(ct_packed_words(5, 8), 2);
  std::vector<uint8_t> codes(18);
  for (int i = 0; i < 9; ++i) codes[i] = static_cast<uint8_t>(i);            // row 0: signed -8 .. 0
  for (int i = 0; i < 9; ++i) codes[9 + i] = static_cast<uint8_t>(15 - i);  // row 1
  std::vector<int32_t> q(4, -1);
  pack_ct_rows(q.data(), codes.data(), 2, 9, 4);
  EXPECT_EQ(q[0], word(0x76543210u));
  EXPECT_EQ(q[1], word(0x00000008u));
  EXPECT_EQ(q[2], word(0x89ABCDEFu));
  EXPECT_EQ(q[3], word(0x00000007u));
  std::vector<uint8_t> back(18);
  unpack_ct_rows(back.data(), q.data(), 2, 9, 4);
  EXPECT_EQ(back, codes);
}

// Zero points [out, n_groups] packed along the output dimension: 3 rows of
// 2 groups at 4 bits make one word per group, row r in bits [4r, 4r+4).
TEST(IntPacking, CompressedTensorsZeroPointsAlongTheOutputDimension) {
  const std::vector<int32_t> zeros = {1, 9,   // row 0
                                      2, 10,  // row 1
                                      3, 15};  // row 2
  std::vector<int32_t> q(2, -1);
  pack_ct_columns(q.data(), zeros.data(), 3, 2, 4);
  EXPECT_EQ(q[0], word(0x321u));
  EXPECT_EQ(q[1], word(0xFA9u));
  std::vector<int32_t> back(6);
  unpack_ct_columns(back.data(), q.data(), 3, 2, 4);
  EXPECT_EQ(back, zeros);
}

TEST(IntPacking, CompressedTensorsRoundTripsAtBothWidths) {
  std::mt19937 gen(12);
  for (int bits : {4, 8}) {
    for (int64_t cols : {1, 7, 8, 33, 129}) {
      const int64_t rows = 5;
      std::vector<uint8_t> codes(static_cast<size_t>(rows * cols));
      for (auto& c : codes) c = static_cast<uint8_t>(gen() & ((1u << bits) - 1));
      std::vector<int32_t> q(static_cast<size_t>(rows * ct_packed_words(cols, bits)));
      pack_ct_rows(q.data(), codes.data(), rows, cols, bits);
      std::vector<uint8_t> back(codes.size());
      unpack_ct_rows(back.data(), q.data(), rows, cols, bits);
      EXPECT_EQ(back, codes) << bits << " bits, " << cols << " columns";
      std::vector<int32_t> zeros(static_cast<size_t>(cols * 3));
      for (auto& z : zeros) z = static_cast<int32_t>(gen() & ((1u << bits) - 1));
      std::vector<int32_t> qz(static_cast<size_t>(ct_packed_words(cols, bits) * 3));
      pack_ct_columns(qz.data(), zeros.data(), cols, 3, bits);
      std::vector<int32_t> zback(zeros.size());
      unpack_ct_columns(zback.data(), qz.data(), cols, 3, bits);
      EXPECT_EQ(zback, zeros) << bits << " bits, " << cols << " rows";
    }
  }
}

}  // namespace
}  // namespace lmpack
