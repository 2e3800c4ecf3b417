// Decoders of the 32-element GGML formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) and
// of F16/BF16. Each format gets (a) a raw-byte block whose values were worked
// out by hand from the layout in its header, so field offsets are pinned down
// byte by byte, and (b) random quants packed by a packer written here from
// the layout description, decoded and compared element by element.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "formats/bf16.h"
#include "formats/decode.h"
#include "formats/f16.h"
#include "formats/format_sizes.h"
#include "formats/q4_0.h"
#include "formats/q4_1.h"
#include "formats/q5_0.h"
#include "formats/q5_1.h"
#include "formats/q8_0.h"

namespace lmpack {
namespace {

void put_half(uint8_t* p, float v) {
  uint16_t h = f32_to_fp16(v);
  std::memcpy(p, &h, 2);
}

std::vector<float> decode(DType type, const std::vector<uint8_t>& bytes, int64_t n) {
  std::vector<float> out(n, -12345.0f);
  decode_to_f32(out.data(), bytes.data(), type, n);
  return out;
}

TEST(Q4_0, HandBuiltBlock) {
  std::vector<uint8_t> b(18, 0x88);  // every quant 8 -> 0
  put_half(&b[0], 1.0f);
  b[2] = 0x1F;   // element 0 = 15, element 16 = 1
  b[17] = 0x70;  // element 15 = 0, element 31 = 7
  auto x = decode(DType::Q4_0, b, 32);
  EXPECT_EQ(x[0], 7.0f);
  EXPECT_EQ(x[16], -7.0f);
  EXPECT_EQ(x[15], -8.0f);
  EXPECT_EQ(x[31], -1.0f);
  EXPECT_EQ(x[5], 0.0f);
}

TEST(Q4_1, HandBuiltBlock) {
  std::vector<uint8_t> b(20, 0);
  put_half(&b[0], 2.0f);
  put_half(&b[2], -1.0f);
  b[4] = 0x30;  // element 0 = 0, element 16 = 3
  auto x = decode(DType::Q4_1, b, 32);
  EXPECT_EQ(x[0], -1.0f);
  EXPECT_EQ(x[16], 5.0f);
  EXPECT_EQ(x[1], -1.0f);
}

TEST(Q5_0, HandBuiltBlock) {
  std::vector<uint8_t> b(22, 0);
  put_half(&b[0], 1.0f);
  b[2] = 0x01;  // fifth bit of element 0
  b[4] = 0x01;  // fifth bit of element 16
  b[6 + 3] = 0xA5;  // element 3 low = 5, element 19 low = 10
  auto x = decode(DType::Q5_0, b, 32);
  EXPECT_EQ(x[0], 0.0f);
  EXPECT_EQ(x[16], 0.0f);
  EXPECT_EQ(x[1], -16.0f);
  EXPECT_EQ(x[3], -11.0f);
  EXPECT_EQ(x[19], -6.0f);
}

TEST(Q5_1, HandBuiltBlock) {
  std::vector<uint8_t> b(24, 0);
  put_half(&b[0], 1.0f);
  put_half(&b[2], 0.5f);
  b[7] = 0x80;       // bit 31: fifth bit of element 31
  b[8 + 15] = 0xF0;  // element 15 low = 0, element 31 low = 15
  auto x = decode(DType::Q5_1, b, 32);
  EXPECT_EQ(x[31], 31.5f);
  EXPECT_EQ(x[15], 0.5f);
}

TEST(Q8_0, HandBuiltBlock) {
  std::vector<uint8_t> b(34, 0);
  put_half(&b[0], 0.5f);
  b[2] = 0x80;   // -128
  b[33] = 0x7F;  // 127
  b[3] = 0xFF;   // -1
  auto x = decode(DType::Q8_0, b, 32);
  EXPECT_EQ(x[0], -64.0f);
  EXPECT_EQ(x[31], 63.5f);
  EXPECT_EQ(x[1], -0.5f);
  EXPECT_EQ(x[2], 0.0f);
}

TEST(F16AndBF16, RowsDecode) {
  std::vector<uint8_t> h = {0x00, 0x3C, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x7C};
  auto x = decode(DType::F16, h, 4);
  EXPECT_EQ(x[0], 1.0f);
  EXPECT_EQ(x[1], -2.0f);
  EXPECT_EQ(x[2], 0.0f);
  EXPECT_TRUE(std::isinf(x[3]));
  std::vector<uint8_t> b = {0x80, 0x3F, 0xC0, 0xBF};
  auto y = decode(DType::BF16, b, 2);
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[1], -1.5f);

  std::vector<float> in = {0.1f, -3.25f, 65504.0f, 1e-8f};
  std::vector<uint8_t> enc(8);
  quantize_row_f16(enc.data(), in.data(), 4);
  auto back = decode(DType::F16, enc, 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(back[i], fp16_to_f32(f32_to_fp16(in[i])));
  quantize_row_bf16(enc.data(), in.data(), 4);
  back = decode(DType::BF16, enc, 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(back[i], bf16_to_f32(f32_to_bf16(in[i])));
}

// Packs nb blocks of 32 quants (unsigned, 4 or 5 bits) with per-block d (and
// m) as the header comments describe, and returns the expected values.
struct Packed {
  std::vector<uint8_t> bytes;
  std::vector<float> expected;
};

Packed pack_legacy(DType type, int nb, uint32_t seed) {
  std::mt19937 rng(seed);
  const bool five = type == DType::Q5_0 || type == DType::Q5_1;
  const bool has_min = type == DType::Q4_1 || type == DType::Q5_1;
  const bool is_q8 = type == DType::Q8_0;
  const int block_bytes = static_cast<int>(dtype_block_bytes(type));
  Packed p;
  p.bytes.assign(static_cast<size_t>(nb) * block_bytes, 0);
  p.expected.resize(static_cast<size_t>(nb) * 32);
  for (int b = 0; b < nb; ++b) {
    uint8_t* blk = &p.bytes[static_cast<size_t>(b) * block_bytes];
    const float d = std::ldexp(1.0f, static_cast<int>(rng() % 6) - 3);  // exact in fp16
    const float m = has_min ? -std::ldexp(static_cast<float>(rng() % 9), -2) : 0.0f;
    put_half(blk, d);
    if (has_min) put_half(blk + 2, m);
    uint8_t* qh = blk + (has_min ? 4 : 2);
    uint8_t* qs = five ? qh + 4 : qh;
    for (int i = 0; i < 32; ++i) {
      float want;
      if (is_q8) {
        const int q = static_cast<int>(rng() % 256) - 128;
        qs[i] = static_cast<uint8_t>(static_cast<int8_t>(q));
        want = d * q;
      } else {
        const int q = static_cast<int>(rng() % (five ? 32 : 16));
        const int low = q & 15;
        qs[i % 16] |= static_cast<uint8_t>(i < 16 ? low : low << 4);
        if (five && (q >> 4)) qh[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
        const int offset = has_min ? 0 : (five ? 16 : 8);
        want = d * (q - offset) + m;
      }
      p.expected[static_cast<size_t>(b) * 32 + i] = want;
    }
  }
  return p;
}

class LegacyFormat : public ::testing::TestWithParam<DType> {};

TEST_P(LegacyFormat, RandomQuantsDecodeExactly) {
  const int nb = 7;
  Packed p = pack_legacy(GetParam(), nb, 1234u + static_cast<uint32_t>(GetParam()));
  auto x = decode(GetParam(), p.bytes, nb * 32);
  for (int i = 0; i < nb * 32; ++i) ASSERT_EQ(x[i], p.expected[i]) << dtype_name(GetParam()) << " element " << i;
}

TEST_P(LegacyFormat, RowDecodesLikeItsBlocks) {
  const int nb = 5;
  const size_t bb = static_cast<size_t>(dtype_block_bytes(GetParam()));
  Packed p = pack_legacy(GetParam(), nb, 99u);
  auto row = decode(GetParam(), p.bytes, nb * 32);
  for (int b = 0; b < nb; ++b) {
    std::vector<uint8_t> one(p.bytes.begin() + b * bb, p.bytes.begin() + (b + 1) * bb);
    auto x = decode(GetParam(), one, 32);
    for (int i = 0; i < 32; ++i) ASSERT_EQ(row[b * 32 + i], x[i]);
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, LegacyFormat,
                         ::testing::Values(DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

TEST(Decode, RejectsTypesWithoutDecoder) {
  std::vector<uint8_t> b(8, 0);
  float out[2];
  EXPECT_THROW(decode_to_f32(out, b.data(), DType::I32, 2), Error);
  EXPECT_THROW(decode_to_f32(out, b.data(), DType::Q8_K, 256), Error);
  decode_to_f32(out, b.data(), DType::F32, 2);
  EXPECT_EQ(out[0], 0.0f);
}

}  // namespace
}  // namespace lmpack
