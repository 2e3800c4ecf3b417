// RoPE row layouts (model/rope_layout.h): which tensors are RoPE'd, and the
// permutation between the adjacent-pair and rotate-half orders.
#include "model/rope_layout.h"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

namespace lmpack {
namespace {

TEST(RopeLayout, RopedTensorsAndTheirHeads) {
  ModelConfig c;
  c.n_heads = 8;
  c.n_kv_heads = 2;
  EXPECT_EQ(rope_heads("blk.0.attn_q.weight", c), 8);
  EXPECT_EQ(rope_heads("blk.10.attn_k.weight", c), 2);
  EXPECT_EQ(rope_heads("blk.1.attn_q.bias", c), 8);
  EXPECT_EQ(rope_heads("blk.1.attn_k.bias", c), 2);
  EXPECT_EQ(rope_heads("blk.1.attn_v.weight", c), 0);
  EXPECT_EQ(rope_heads("blk.1.attn_output.weight", c), 0);
  EXPECT_EQ(rope_heads("token_embd.weight", c), 0);
  EXPECT_EQ(rope_heads("attn_q.weight", c), 0);
}

// adjacent_index written out for two heads of 4: halves rows (0 1 | 2 3) of
// each head hold adjacent rows (0 2 | 1 3).
TEST(RopeLayout, AdjacentIndexWrittenOut) {
  const int64_t expected[] = {0, 2, 1, 3, 4, 6, 5, 7};
  for (int64_t r = 0; r < 8; ++r) EXPECT_EQ(adjacent_index(r, 4), expected[r]) << r;
}

// Partial rotary: within each head of 8 with 4 turned, halves rows (0 1 | 2 3)
// hold adjacent rows (0 2 | 1 3) and rows 4..7 stay in place.
TEST(RopeLayout, PartialRotaryMovesTheTurnedRowsOnly) {
  const int64_t expected[] = {0, 2, 1, 3, 4, 5, 6, 7, 8, 10, 9, 11, 12, 13, 14, 15};
  for (int64_t r = 0; r < 16; ++r) EXPECT_EQ(adjacent_index(r, 8, 4), expected[r]) << r;
  std::vector<int32_t> adjacent(16), halves(16), back(16);
  std::iota(adjacent.begin(), adjacent.end(), 0);
  permute_rope_rows(halves.data(), adjacent.data(), 2, 8, sizeof(int32_t), RopeLayout::kAdjacent, 4);
  EXPECT_EQ(halves, std::vector<int32_t>(std::begin(expected), std::end(expected)));
  permute_rope_rows(back.data(), halves.data(), 2, 8, sizeof(int32_t), RopeLayout::kHalves, 4);
  EXPECT_EQ(back, adjacent);
}

// The permutation against transformers' formula, written out: HF row
// h*hd + c*half + i holds adjacent row h*hd + 2*i + c.
TEST(RopeLayout, PermutationMatchesTheConverterAndInverts) {
  const int64_t heads = 3, hd = 6, half = hd / 2, cols = 2;
  std::vector<int32_t> adjacent(heads * hd * cols);
  std::iota(adjacent.begin(), adjacent.end(), 0);
  std::vector<int32_t> halves(adjacent.size()), back(adjacent.size());
  permute_rope_rows(halves.data(), adjacent.data(), heads, hd, cols * sizeof(int32_t), RopeLayout::kAdjacent);
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < half; ++i)
      for (int64_t c = 0; c < 2; ++c)
        for (int64_t k = 0; k < cols; ++k)
          EXPECT_EQ(halves[((h * hd) + c * half + i) * cols + k], adjacent[((h * hd) + 2 * i + c) * cols + k]);
  EXPECT_NE(halves, adjacent);
  permute_rope_rows(back.data(), halves.data(), heads, hd, cols * sizeof(int32_t), RopeLayout::kHalves);
  EXPECT_EQ(back, adjacent);
}

}  // namespace
}  // namespace lmpack
