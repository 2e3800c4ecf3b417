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
