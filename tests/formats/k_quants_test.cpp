// Decoders of the GGML k-quants (Q2_K ... Q6_K). Each format gets (a) a
// raw-byte block with values worked out by hand from the layout, so field
// offsets and bit positions are pinned byte by byte, and (b) random quants
// and scales packed by a packer written here from the layout description
// (the opposite direction to the decoder), decoded and compared exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "formats/decode.h"
#include "formats/format_common.h"
#include "formats/format_sizes.h"
#include "formats/q2_k.h"
#include "formats/q3_k.h"
#include "formats/q4_k.h"
#include "formats/q5_k.h"
#include "formats/q6_k.h"

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

// ---- hand-built blocks (offsets: see each header's layout) ----

TEST(Q2_K, HandBuiltBlock) {
  std::vector<uint8_t> b(84, 0);
  b[0] = 0x21;  // sub-block 0: scale 1, min 2
  b[2] = 0x13;  // sub-block 2: scale 3, min 1
  b[16 + 0] = 0xE4;  // qs[0]: bits (0,1)=0 (1,2 bits)=1, (4,5)=2, (6,7)=3
  put_half(&b[80], 1.0f);
  put_half(&b[82], 1.0f);
  auto x = decode(DType::Q2_K, b, 256);
  EXPECT_EQ(x[0], -2.0f);         // 1*0 - 2
  EXPECT_EQ(x[32], 2.0f);         // p=1 -> sub-block 2: 3*1 - 1
  EXPECT_EQ(x[64], 0.0f);         // sub-block 4: scale 0, min 0
  EXPECT_EQ(x[1], -2.0f);         // q 0
  EXPECT_EQ(x[16], 0.0f);         // sub-block 1
}

TEST(Q3_K, HandBuiltBlock) {
  std::vector<uint8_t> b(110, 0);
  put_half(&b[108], 1.0f);
  // All zero: every scale is 0 - 32 and every quant 0 - 4, so x = 128.
  auto x = decode(DType::Q3_K, b, 256);
  for (int i = 0; i < 256; ++i) ASSERT_EQ(x[i], 128.0f) << i;
  b[96 + 0] = 0x01;  // S[0] low nibble 1
  b[96 + 8] = 0x02;  // S[0] high bits 2 -> S[0] = 33 -> scale 1
  b[32 + 0] = 0x03;  // qs[0] bits 0..1 = 3
  b[0] = 0x01;       // hmask[0] bit 0: element 0's high bit
  x = decode(DType::Q3_K, b, 256);
  EXPECT_EQ(x[0], 3.0f);
  EXPECT_EQ(x[1], -4.0f);
  EXPECT_EQ(x[16], 128.0f);
  b[0] = 0x10;  // hmask[0] bit 4: high bit of element 128
  b[96 + 4] = 0x07;  // S[4] low nibble -> S[4] = 7: scale -25 (elements 64..79)
  x = decode(DType::Q3_K, b, 256);
  EXPECT_EQ(x[0], -1.0f);     // 3 - 4
  EXPECT_EQ(x[128], 0.0f);    // sub-block 8, S = 0 -> -32 * (0 + 4 - 4)
  EXPECT_EQ(x[64], 100.0f);   // -25 * -4
}

TEST(Q4_K, HandBuiltBlock) {
  std::vector<uint8_t> b(144, 0);
  put_half(&b[0], 1.0f);
  put_half(&b[2], 0.5f);
  b[4 + 0] = 0x02 | 0x40;  // scale 0 = 2; bit 6 -> high bits of scale 4 = 1
  b[4 + 4] = 0x03;         // min 0 = 3
  b[4 + 8] = 0x21;         // scale 4 low = 1, min 4 low = 2 -> scale 4 = 17
  b[16 + 0] = 0x05;        // element 0 = 5, element 32 = 0
  b[16 + 64] = 0x01;       // element 128 (chunk 2, sub-block 4) = 1
  auto x = decode(DType::Q4_K, b, 256);
  EXPECT_EQ(x[0], 8.5f);    // 2*5 - 0.5*3
  EXPECT_EQ(x[1], -1.5f);   // 2*0 - 1.5
  EXPECT_EQ(x[32], 0.0f);   // sub-block 1: scale 0, min 0
  EXPECT_EQ(x[128], 16.0f); // 17*1 - 0.5*2
  EXPECT_EQ(x[129], -1.0f);
}

TEST(Q5_K, HandBuiltBlock) {
  std::vector<uint8_t> b(176, 0);
  put_half(&b[0], 1.0f);
  put_half(&b[2], 1.0f);
  b[4 + 1] = 0x01;    // scale 1 = 1
  b[4 + 5] = 0x04;    // min 1 = 4
  b[16 + 0] = 0x02;   // qh[0] bit 1: fifth bit of element 32
  b[48 + 0] = 0x30;   // element 0 low = 0, element 32 low = 3
  b[16 + 3] = 0x80;   // qh[3] bit 7: fifth bit of element 64*3 + 32 + 3 = 227
  b[4 + 7] = 0x02;    // min 3 = 2 (j < 4); scale 7: from byte 11 and byte 3
  b[4 + 11] = 0x01;   // scale 7 low = 1, min 7 low = 0
  auto x = decode(DType::Q5_K, b, 256);
  EXPECT_EQ(x[32], 15.0f);   // 1 * (3 + 16) - 4
  EXPECT_EQ(x[33], -4.0f);
  EXPECT_EQ(x[0], 0.0f);     // sub-block 0: scale 0, min 0
  EXPECT_EQ(x[227], 16.0f);  // scale 7 = 1, q = 16, min 7 = 0
  EXPECT_EQ(x[196], 0.0f);   // sub-block 6 (min 6 = 0)
}

TEST(Q6_K, HandBuiltBlock) {
  std::vector<uint8_t> b(210, 0);
  put_half(&b[208], 1.0f);
  b[0] = 0x21;        // ql[0]: element 0 low 1, element 64 low 2
  b[128] = 0xE4;      // qh[0]: element 0 high 0, 32 high 1, 64 high 2, 96 high 3
  b[192 + 0] = 1;     // scale of elements 0..15
  b[192 + 4] = 0xFE;  // scale of elements 64..79 = -2
  b[192 + 2] = 3;     // scale of elements 32..47
  b[192 + 6] = 1;     // scale of elements 96..111
  b[192 + 8] = 5;     // scale of elements 128..143
  b[64] = 0x0F;       // ql[64]: element 128 low 15
  b[128 + 32] = 0x02; // qh[32]: element 128 high 2
  auto x = decode(DType::Q6_K, b, 256);
  EXPECT_EQ(x[0], -31.0f);          // 1 * (1 - 32)
  EXPECT_EQ(x[64], -4.0f);          // -2 * (2 | 2<<4 = 34 - 32)
  EXPECT_EQ(x[32], -48.0f);         // 3 * (0 | 1<<4 = 16 - 32)
  EXPECT_EQ(x[96], 16.0f);          // 1 * (48 - 32)
  EXPECT_EQ(x[128], 5.0f * 15);     // 5 * (15 | 2<<4 = 47 - 32)
  EXPECT_EQ(x[16], 0.0f);           // scale 1 = 0
}

TEST(KScales, PackAndUnpackAreInverse) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    uint8_t sc[8], mn[8], bytes[12];
    for (int j = 0; j < 8; ++j) sc[j] = rng() % 64, mn[j] = rng() % 64;
    pack_scale_min_k4(bytes, sc, mn);
    for (int j = 0; j < 8; ++j) {
      uint8_t s, m;
      unpack_scale_min_k4(j, bytes, &s, &m);
      ASSERT_EQ(s, sc[j]);
      ASSERT_EQ(m, mn[j]);
    }
  }
}

// ---- random blocks through packers written from the layout text ----

struct Packed {
  std::vector<uint8_t> bytes;
  std::vector<float> expected;
};

// Q4_K/Q5_K scales[12], packed from the layout description.
void pack_k4_scales(uint8_t* s, const int* sc, const int* mn) {
  for (int j = 0; j < 8; ++j) {
    if (j < 4) {
      s[j] |= sc[j];
      s[j + 4] |= mn[j];
    } else {
      s[j + 4] |= (sc[j] & 15) | (mn[j] & 15) << 4;
      s[j - 4] |= (sc[j] >> 4) << 6;
      s[j] |= (mn[j] >> 4) << 6;
    }
  }
}

Packed pack_k(DType type, int nb, uint32_t seed) {
  std::mt19937 rng(seed);
  const size_t bb = static_cast<size_t>(dtype_block_bytes(type));
  Packed p;
  p.bytes.assign(nb * bb, 0);
  p.expected.resize(static_cast<size_t>(nb) * 256);
  for (int b = 0; b < nb; ++b) {
    uint8_t* blk = &p.bytes[b * bb];
    float* want = &p.expected[static_cast<size_t>(b) * 256];
    const float d = std::ldexp(1.0f, static_cast<int>(rng() % 5) - 6);
    const float dmin = std::ldexp(1.0f, static_cast<int>(rng() % 5) - 6);
    if (type == DType::Q2_K) {
      uint8_t* scales = blk;
      uint8_t* qs = blk + 16;
      put_half(blk + 80, d);
      put_half(blk + 82, dmin);
      int sc[16], mn[16];
      for (int s = 0; s < 16; ++s) sc[s] = rng() % 16, mn[s] = rng() % 16, scales[s] = sc[s] | mn[s] << 4;
      for (int i = 0; i < 256; ++i) {
        const int q = rng() % 4, h = i / 128, pp = (i % 128) / 32, l = i % 32;
        qs[32 * h + l] |= q << (2 * pp);
        want[i] = d * sc[i / 16] * q - dmin * mn[i / 16];
      }
    } else if (type == DType::Q3_K) {
      uint8_t* hmask = blk;
      uint8_t* qs = blk + 32;
      uint8_t* scales = blk + 96;
      put_half(blk + 108, d);
      int S[16];
      for (int s = 0; s < 16; ++s) {
        S[s] = rng() % 64;
        if (s < 8) scales[s] |= S[s] & 15;
        else scales[s - 8] |= (S[s] & 15) << 4;
        scales[8 + s % 4] |= (S[s] >> 4) << (2 * (s / 4));
      }
      for (int i = 0; i < 256; ++i) {
        const int q = static_cast<int>(rng() % 8) - 4, u = q + 4;
        const int h = i / 128, pp = (i % 128) / 32, l = i % 32;
        qs[32 * h + l] |= (u & 3) << (2 * pp);
        hmask[l] |= (u >> 2) << (4 * h + pp);
        want[i] = d * (S[i / 16] - 32) * q;
      }
    } else if (type == DType::Q4_K || type == DType::Q5_K) {
      const bool five = type == DType::Q5_K;
      put_half(blk, d);
      put_half(blk + 2, dmin);
      int sc[8], mn[8];
      for (int j = 0; j < 8; ++j) sc[j] = rng() % 64, mn[j] = rng() % 64;
      pack_k4_scales(blk + 4, sc, mn);
      uint8_t* qh = blk + 16;
      uint8_t* qs = five ? blk + 48 : blk + 16;
      for (int i = 0; i < 256; ++i) {
        const int q = rng() % (five ? 32 : 16);
        const int c = i / 64, t = (i % 64) / 32, l = i % 32;
        qs[32 * c + l] |= (q & 15) << (4 * t);
        if (five) qh[l] |= (q >> 4) << (2 * c + t);
        want[i] = d * sc[i / 32] * q - dmin * mn[i / 32];
      }
    } else {  // Q6_K
      uint8_t* ql = blk;
      uint8_t* qh = blk + 128;
      int8_t* scales = reinterpret_cast<int8_t*>(blk + 192);
      put_half(blk + 208, d);
      for (int s = 0; s < 16; ++s) scales[s] = static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
      for (int i = 0; i < 256; ++i) {
        const int q = rng() % 64;
        const int h = i / 128, k = (i % 128) / 32, l = i % 32;
        uint8_t& lo = ql[64 * h + l + (k % 2) * 32];
        lo |= (q & 15) << (k >= 2 ? 4 : 0);
        qh[32 * h + l] |= (q >> 4) << (2 * k);
        want[i] = d * scales[i / 16] * (q - 32);
      }
    }
  }
  return p;
}

class KQuant : public ::testing::TestWithParam<DType> {};

TEST_P(KQuant, RandomQuantsDecodeExactly) {
  const int nb = 4;
  Packed p = pack_k(GetParam(), nb, 4321u + static_cast<uint32_t>(GetParam()));
  auto x = decode(GetParam(), p.bytes, nb * 256);
  for (int i = 0; i < nb * 256; ++i)
    ASSERT_EQ(x[i], p.expected[i]) << dtype_name(GetParam()) << " element " << i;
}

TEST_P(KQuant, RowDecodesLikeItsBlocks) {
  const int nb = 3;
  const size_t bb = static_cast<size_t>(dtype_block_bytes(GetParam()));
  Packed p = pack_k(GetParam(), nb, 55u);
  auto row = decode(GetParam(), p.bytes, nb * 256);
  for (int b = 0; b < nb; ++b) {
    std::vector<uint8_t> one(p.bytes.begin() + b * bb, p.bytes.begin() + (b + 1) * bb);
    auto x = decode(GetParam(), one, 256);
    for (int i = 0; i < 256; ++i) ASSERT_EQ(row[b * 256 + i], x[i]) << "block " << b << " element " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, KQuant,
                         ::testing::Values(DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

TEST(KQuant, StructSizesMatchTraits) {
  EXPECT_EQ(sizeof(BlockQ2_K), static_cast<size_t>(dtype_block_bytes(DType::Q2_K)));
  EXPECT_EQ(sizeof(BlockQ3_K), static_cast<size_t>(dtype_block_bytes(DType::Q3_K)));
  EXPECT_EQ(sizeof(BlockQ4_K), static_cast<size_t>(dtype_block_bytes(DType::Q4_K)));
  EXPECT_EQ(sizeof(BlockQ5_K), static_cast<size_t>(dtype_block_bytes(DType::Q5_K)));
  EXPECT_EQ(sizeof(BlockQ6_K), static_cast<size_t>(dtype_block_bytes(DType::Q6_K)));
  EXPECT_EQ(offsetof(BlockQ4_K, qs), 16u);
  EXPECT_EQ(offsetof(BlockQ5_K, qs), 48u);
  EXPECT_EQ(offsetof(BlockQ6_K, d), 208u);
  EXPECT_EQ(offsetof(BlockQ3_K, d), 108u);
  EXPECT_EQ(offsetof(BlockQ2_K, d), 80u);
}

}  // namespace
}  // namespace lmpack
