// The fast forward's LinearInputObserver (runtime/forward.h) on the real
// stories260K: every linear layer's input is reported under its GGUF name with
// the right shape, and the values are what the layer multiplied: walking the
// residual stream with the reference weights from the observed inputs
// reproduces each next observed input and, at the end, the logits.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "kernels/ops.h"
#include "model/checkpoint.h"
#include "runtime/forward.h"
#include "runtime/weights.h"
#include "test_paths.h"

namespace lmpack {
namespace {

struct Recorder final : LinearInputObserver {
  struct Seen {
    int64_t m = 0, cols = 0, calls = 0;
    std::vector<float> x;
  };
  std::map<std::string, Seen> seen;
  std::vector<std::string> order;
  void observe(const std::string& name, const float* x, int64_t m, int64_t cols) override {
    Seen& s = seen[name];
    s.m = m;
    s.cols = cols;
    ++s.calls;
    s.x.assign(x, x + m * cols);
    order.push_back(name);
  }
};

// y [m, n] += x [m, k] · Wᵀ, W [n, k].
void add_xwt(float* y, const float* x, const float* w, int64_t m, int64_t n, int64_t k) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t c = 0; c < k; ++c) s += static_cast<double>(x[i * k + c]) * w[j * k + c];
      y[i * n + j] += static_cast<float>(s);
    }
}

void expect_close(const std::vector<float>& want, const std::vector<float>& got, const std::string& what) {
  ASSERT_EQ(want.size(), got.size()) << what;
  double worst = 0, scale = 1e-6;
  for (size_t i = 0; i < want.size(); ++i) {
    worst = std::max(worst, static_cast<double>(std::fabs(want[i] - got[i])));
    scale = std::max(scale, static_cast<double>(std::fabs(want[i])));
  }
  EXPECT_LT(worst, 1e-4 * scale) << what << ": max difference " << worst << " at scale " << scale;
}

TEST(LinearObserver, SeesEveryLinearInputAsMultiplied) {
  LMPACK_REQUIRE_SHARED();
  const Checkpoint ckpt = load_checkpoint(testing::shared_path("models/stories260K/stories260K.gguf"));
  auto weights = build_weights(ckpt);
  const ModelConfig& c = weights->config;
  const std::vector<int32_t> tokens = {1, 403, 407, 261, 378, 429, 270, 297, 300, 280, 365, 259, 30, 400, 271};
  const int64_t n = static_cast<int64_t>(tokens.size()), dim = c.dim, hidden = c.hidden_dim;
  auto fwd = make_fast_forward(weights, 64);
  Recorder rec;
  fwd->set_observer(&rec);
  std::vector<float> logits(n * c.vocab_size);
  fwd->forward(tokens.data(), n, logits.data());

  ASSERT_EQ(rec.seen.size(), static_cast<size_t>(7 * c.n_layers + 1));
  EXPECT_EQ(rec.order.front(), "blk.0.attn_q.weight");
  EXPECT_EQ(rec.order.back(), "output.weight");
  for (const auto& [name, s] : rec.seen) {
    EXPECT_EQ(s.calls, 1) << name;
    EXPECT_EQ(s.m, n) << name;
    const TensorInfo& t = ckpt.tensor(name);  // every name is a real tensor
    ASSERT_EQ(t.shape.size(), 2u) << name;
    EXPECT_EQ(s.cols, t.cols()) << name;  // the input width
  }

  const ReferenceWeights& r = weights->reference();
  std::vector<float> x(n * dim);  // residual stream
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < dim; ++j) x[i * dim + j] = r.token_embd[tokens[i] * dim + j];
  std::vector<float> normed(n * dim);
  auto norm_rows = [&](const float* w) {
    for (int64_t i = 0; i < n; ++i) rmsnorm_reference(normed.data() + i * dim, x.data() + i * dim, w, dim, c.rms_eps);
  };
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const ReferenceLayerWeights& lw = r.layers[l];
    const std::string b = "blk." + std::to_string(l) + ".";
    norm_rows(lw.attn_norm);
    for (const char* m : {"attn_q", "attn_k", "attn_v"}) expect_close(normed, rec.seen[b + m + ".weight"].x, b + m);
    add_xwt(x.data(), rec.seen[b + "attn_output.weight"].x.data(), lw.wo, n, dim, c.q_dim());
    norm_rows(lw.ffn_norm);
    for (const char* m : {"ffn_gate", "ffn_up"}) expect_close(normed, rec.seen[b + m + ".weight"].x, b + m);
    std::vector<float> gate(n * hidden, 0.0f), up(n * hidden, 0.0f);
    add_xwt(gate.data(), normed.data(), lw.w_gate, n, hidden, dim);
    add_xwt(up.data(), normed.data(), lw.w_up, n, hidden, dim);
    for (int64_t i = 0; i < n; ++i) silu_mul(gate.data() + i * hidden, up.data() + i * hidden, hidden);
    expect_close(gate, rec.seen[b + "ffn_down.weight"].x, b + "ffn_down");
    add_xwt(x.data(), rec.seen[b + "ffn_down.weight"].x.data(), lw.w_down, n, dim, hidden);
  }
  norm_rows(r.output_norm);
  expect_close(normed, rec.seen["output.weight"].x, "output");
  std::vector<float> want(n * c.vocab_size, 0.0f);
  add_xwt(want.data(), rec.seen["output.weight"].x.data(), r.output, n, c.vocab_size, dim);
  expect_close(want, logits, "logits");

  // Unset: nothing more is reported; logits are unchanged.
  fwd->set_observer(nullptr);
  fwd->reset();
  const size_t calls = rec.order.size();
  std::vector<float> again(logits.size());
  fwd->forward(tokens.data(), n, again.data());
  EXPECT_EQ(rec.order.size(), calls);
  EXPECT_EQ(again, logits);
}

TEST(LinearObserver, TiedOutputIsTokenEmbdAndLastOnlySeesOneRow) {
  LMPACK_REQUIRE_SHARED();
  const Checkpoint ckpt = load_checkpoint(testing::shared_path("models/stories260K/stories260K.bin"));
  ASSERT_TRUE(ckpt.config.tied_embeddings);
  auto fwd = make_fast_forward(build_weights(ckpt), 32);
  Recorder rec;
  fwd->set_observer(&rec);
  const std::vector<int32_t> tokens = {1, 403, 407, 261, 378};
  std::vector<float> logits(ckpt.config.vocab_size);
  fwd->forward(tokens.data(), 5, logits.data(), /*last_only=*/true);
  EXPECT_EQ(rec.seen.count("output.weight"), 0u);
  ASSERT_EQ(rec.seen.count("token_embd.weight"), 1u);
  EXPECT_EQ(rec.seen["token_embd.weight"].m, 1);
  EXPECT_EQ(rec.seen["blk.4.ffn_down.weight"].m, 5);
  EXPECT_EQ(rec.seen["blk.4.ffn_down.weight"].cols, ckpt.config.hidden_dim);
  // A generation step continues with one row everywhere.
  const int32_t next = 300;
  fwd->forward(&next, 1, logits.data());
  EXPECT_EQ(rec.seen["blk.0.attn_q.weight"].m, 1);
  EXPECT_EQ(rec.seen["blk.0.attn_q.weight"].calls, 2);
}

}  // namespace
}  // namespace lmpack
