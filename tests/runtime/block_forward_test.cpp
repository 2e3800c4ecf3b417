// The calibration block stages (runtime/block_forward.h), chained over every
// block of stories260K and followed by the output norm and classifier, give
// the fast forward pass's logits for each window.
#include "runtime/block_forward.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/parallel.h"
#include "formats/decode.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "runtime/forward.h"
#include "runtime/weights.h"
#include "test_paths.h"

namespace lmpack {
namespace {

TEST(BlockForward, StagesChainToTheForwardPassLogits) {
  LMPACK_REQUIRE_SHARED();
  set_num_threads(2);
  LoadOptions lo;
  lo.tokenizer_path = testing::shared_path("models/stories260K/tok512.bin");
  const Checkpoint ckpt = load_checkpoint(testing::shared_path("models/stories260K/stories260K.bin"), lo);
  const ModelConfig& c = ckpt.config;
  const int64_t n_windows = 3, ctx = 40, T = n_windows * ctx;
  std::mt19937 rng(7);
  std::vector<int32_t> tokens(static_cast<size_t>(T));
  for (int32_t& t : tokens) t = static_cast<int32_t>(rng() % c.vocab_size);

  const auto weights = build_weights(ckpt);
  std::vector<float> x(static_cast<size_t>(T * c.dim));
  for (int64_t i = 0; i < T; ++i) weights->embed(x.data() + i * c.dim, tokens[i]);
  const RopeTables rope = make_rope_tables(weights->rope_inv_freq, ctx);
  std::vector<float> xn(x.size()), att(static_cast<size_t>(T * c.q_dim())), act(static_cast<size_t>(T * c.hidden_dim));
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const BlockF32 b = load_block_f32(ckpt, l);
    block_rmsnorm(xn.data(), x.data(), b.attn_norm.data(), T, c.dim, c.rms_eps);
    block_attention(att.data(), xn.data(), b, c, rope, n_windows);
    block_add_attn_output(x.data(), att.data(), b, c, T);
    block_rmsnorm(xn.data(), x.data(), b.ffn_norm.data(), T, c.dim, c.rms_eps);
    block_ffn_act(act.data(), xn.data(), b, c, T);
    block_add_ffn_output(x.data(), act.data(), b, c, T);
  }
  const TensorInfo& norm_t = ckpt.tensor("output_norm.weight");
  std::vector<float> norm(static_cast<size_t>(c.dim));
  decode_to_f32(norm.data(), norm_t.data, norm_t.dtype, c.dim);
  const TensorInfo& out_t = ckpt.tensor(ckpt.find("output.weight") ? "output.weight" : "token_embd.weight");
  std::vector<float> out_w(static_cast<size_t>(out_t.n_elements()));
  decode_to_f32(out_w.data(), out_t.data, out_t.dtype, out_t.n_elements());
  block_rmsnorm(xn.data(), x.data(), norm.data(), T, c.dim, c.rms_eps);
  std::vector<float> logits(static_cast<size_t>(T * c.vocab_size));
  matmul_xwt(logits.data(), xn.data(), out_w.data(), T, c.vocab_size, c.dim);

  auto forward = make_fast_forward(weights, ctx);
  std::vector<float> expected(static_cast<size_t>(ctx * c.vocab_size));
  double max_diff = 0.0;
  for (int64_t w = 0; w < n_windows; ++w) {
    forward->reset();
    forward->forward(tokens.data() + w * ctx, ctx, expected.data());
    for (int64_t i = 0; i < ctx * c.vocab_size; ++i)
      max_diff = std::max(max_diff, static_cast<double>(std::fabs(expected[i] - logits[w * ctx * c.vocab_size + i])));
  }
  EXPECT_LT(max_diff, 1e-3) << "largest |logit difference| between the stages and the forward pass";
}

}  // namespace
}  // namespace lmpack
