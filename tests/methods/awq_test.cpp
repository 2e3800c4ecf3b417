// AWQ property tests. Synthetic layers (synthetic_layer.h): inputs X = Z·A
// (a random mixing A makes the columns correlate) with a few salient channels
// (activations x20), two linear layers sharing X as q/k/v or gate/up do.
// Real layers: the attention and FFN inputs of stories260K on TinyStories
// text. Every error the search reports is checked against 2/N·||(W - Ŵ)·Xᵀ||²_F
// computed here from X.
#include "methods/awq.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "formats/format.h"
#include "formats/format_sizes.h"
#include "methods/round_trip.h"
#include "model/checkpoint.h"
#include "runtime/forward.h"
#include "runtime/weights.h"
#include "synthetic_layer.h"
#include "test_paths.h"
#include "tokenizer/tokenizer.h"

namespace lmpack {
namespace {

struct Block {
  int64_t cols = 0, tokens = 0;
  std::vector<int64_t> rows;          // per linear
  std::vector<std::vector<float>> w;  // per linear [rows, cols]
  std::vector<float> x;               // [tokens, cols]
  std::vector<float> mean_abs_x;      // [cols]
  Hessian h;
};

void finish_stats(Block& b) {
  b.mean_abs_x.assign(b.cols, 0.0f);
  for (int64_t t = 0; t < b.tokens; ++t)
    for (int64_t c = 0; c < b.cols; ++c) b.mean_abs_x[c] += std::fabs(b.x[t * b.cols + c]) / b.tokens;
  b.h = make_hessian(b.cols);
  hessian_add(b.h, b.x.data(), b.tokens);
}

// salient: that many channels (spread over the width) get activations x20.
Block make_block(std::vector<int64_t> rows, int64_t cols, int64_t tokens, int salient, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist;
  Block b;
  b.cols = cols;
  b.tokens = tokens;
  b.rows = rows;
  for (int64_t r : rows) {
    std::vector<float> w(r * cols);
    for (float& v : w) v = 0.05f * dist(gen);
    b.w.push_back(std::move(w));
  }
  b.x = testing::correlated_inputs(gen, dist, tokens, cols, salient);  // X = Z·A
  finish_stats(b);
  return b;
}

// 2/N·||(W - Ŵ)·Xᵀ||²_F straight from X, in double.
double output_error(const Block& b, const float* w, const float* w_hat, int64_t rows) {
  double sum = 0.0;
  std::vector<double> d(b.cols);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < b.cols; ++c) d[c] = static_cast<double>(w[r * b.cols + c]) - w_hat[r * b.cols + c];
    for (int64_t t = 0; t < b.tokens; ++t) {
      double y = 0.0;
      for (int64_t c = 0; c < b.cols; ++c) y += d[c] * b.x[t * b.cols + c];
      sum += y * y;
    }
  }
  return 2.0 * sum / static_cast<double>(b.tokens);
}

// Σ over linears of the error of Q(W·diag(s))·diag(1/s); s empty: no scaling.
double block_error(const Block& b, const MatrixRoundTrip& rt, const std::vector<float>& s) {
  double err = 0.0;
  for (size_t i = 0; i < b.w.size(); ++i) {
    const int64_t rows = b.rows[i];
    std::vector<float> in = b.w[i], out(in.size());
    if (!s.empty())
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < b.cols; ++c) in[r * b.cols + c] *= s[c];
    rt(out.data(), in.data(), rows, b.cols);
    if (!s.empty())
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < b.cols; ++c) out[r * b.cols + c] /= s[c];
    err += output_error(b, b.w[i].data(), out.data(), rows);
  }
  return err;
}

std::vector<AwqLinear> linears_of(const Block& b, const MatrixRoundTrip& rt) {
  std::vector<AwqLinear> ls;
  for (size_t i = 0; i < b.w.size(); ++i) ls.push_back({b.w[i].data(), b.rows[i], rt});
  return ls;
}

// Q4_0 through the format table directly (round_trip_test checks the helper).
MatrixRoundTrip q4_0_by_rows() {
  return [](float* out, const float* in, int64_t rows, int64_t cols) {
    const FormatOps& ops = format_ops(DType::Q4_0);
    std::vector<uint8_t> buf(dtype_bytes(DType::Q4_0, cols));
    for (int64_t r = 0; r < rows; ++r) {
      ops.quantize_row(buf.data(), in + r * cols, cols, nullptr);
      ops.dequantize_row(out + r * cols, buf.data(), cols);
    }
  };
}

IntGridSpec int_grid(int bits) {
  IntGridSpec g;
  g.bits = bits;
  return g;
}

// Checks every property of one search; returns error / error_alpha0.
double check_search(const Block& b, const MatrixRoundTrip& rt, const AwqOptions& options = {}) {
  const AwqSearchResult res = awq_search_scales(linears_of(b, rt), b.cols, b.mean_abs_x.data(), b.h, options);
  EXPECT_EQ(res.errors.size(), static_cast<size_t>(options.n_grid));
  EXPECT_EQ(res.errors[0], res.error_alpha0);
  // α = 0 is the plain round trip, measured here without any scaling.
  const double plain = block_error(b, rt, {});
  EXPECT_NEAR(res.error_alpha0, plain, 1e-3 * plain);
  // The chosen α is the least error on the grid, the smaller one on ties.
  for (size_t k = 0; k < res.errors.size(); ++k) {
    EXPECT_LE(res.error, res.errors[k]) << "alpha index " << k;
    if (static_cast<double>(k) / options.n_grid < res.alpha) {
      EXPECT_GT(res.errors[k], res.error) << k;
    }
  }
  EXPECT_LE(res.error, res.error_alpha0);
  // The reported error is what the returned scales give, measured from X.
  EXPECT_EQ(res.scales.size(), static_cast<size_t>(b.cols));
  const double chosen = block_error(b, rt, res.scales);
  EXPECT_NEAR(res.error, chosen, 1e-3 * chosen);
  // Normalized: max·min = 1.
  const auto [lo, hi] = std::minmax_element(res.scales.begin(), res.scales.end());
  EXPECT_NEAR(static_cast<double>(*lo) * *hi, 1.0, 1e-5);
  return res.error / res.error_alpha0;
}

TEST(AwqSearch, SalientChannelsInt4Group32) {
  const Block b = make_block({64, 48}, 128, 512, 4, 1);
  const double ratio = check_search(b, int_group_round_trip(int_grid(4), 32));
  EXPECT_LT(ratio, 0.9);
  std::printf("int4 g32: AWQ error / alpha-0 error = %.3f\n", ratio);
}

TEST(AwqSearch, SalientChannelsInt3Group32Symmetric) {
  const Block b = make_block({64, 48}, 128, 512, 4, 2);
  IntGridSpec g = int_grid(3);
  g.symmetric = true;
  const double ratio = check_search(b, int_group_round_trip(g, 32));
  EXPECT_LT(ratio, 0.9);
  std::printf("int3 sym g32: AWQ error / alpha-0 error = %.3f\n", ratio);
}

TEST(AwqSearch, SalientChannelsQ4_0) {
  const Block b = make_block({64, 48}, 128, 512, 4, 3);
  const double ratio = check_search(b, q4_0_by_rows());
  EXPECT_LT(ratio, 0.9);
  std::printf("Q4_0: AWQ error / alpha-0 error = %.3f\n", ratio);
}

TEST(AwqSearch, NeverWorseWithoutSalientChannels) {
  for (uint32_t seed = 10; seed < 14; ++seed) {
    const Block b = make_block({32}, 64, 256, 0, seed);
    AwqOptions o;
    o.n_grid = 8;
    EXPECT_LE(check_search(b, int_group_round_trip(int_grid(4), 16), o), 1.0) << seed;
    EXPECT_LE(check_search(b, int_group_round_trip(int_grid(2), -1), o), 1.0) << seed;
  }
}

TEST(AwqSearch, ScalesFollowMeanAbsXToTheAlpha) {
  const Block b = make_block({64}, 128, 512, 4, 4);
  const AwqSearchResult res = awq_search_scales(linears_of(b, int_group_round_trip(int_grid(3), 32)), b.cols,
                                                b.mean_abs_x.data(), b.h, {});
  ASSERT_GT(res.alpha, 0.0);
  for (int64_t c = 1; c < b.cols; ++c) {
    const double want = std::pow(static_cast<double>(b.mean_abs_x[c]) / b.mean_abs_x[0], res.alpha);
    EXPECT_NEAR(res.scales[c] / res.scales[0], want, 1e-5 * want) << c;
  }
}

TEST(AwqSearch, EqualActivationsTieAtAlphaZero) {
  // mean|x| all equal: every α gives s = 1, every error is the same, and the
  // smallest α wins the tie.
  Block b = make_block({32}, 64, 128, 0, 5);
  b.mean_abs_x.assign(b.cols, 0.7f);
  AwqOptions o;
  o.n_grid = 5;
  const AwqSearchResult res =
      awq_search_scales(linears_of(b, int_group_round_trip(int_grid(4), 32)), b.cols, b.mean_abs_x.data(), b.h, o);
  EXPECT_EQ(res.alpha, 0.0);
  for (double e : res.errors) EXPECT_EQ(e, res.errors[0]);
  for (float s : res.scales) EXPECT_EQ(s, 1.0f);
  // A dead channel (mean 0) still gets a finite, positive scale.
  b.mean_abs_x[3] = 0.0f;
  const AwqSearchResult dead =
      awq_search_scales(linears_of(b, int_group_round_trip(int_grid(4), 32)), b.cols, b.mean_abs_x.data(), b.h, o);
  for (float s : dead.scales) EXPECT_TRUE(std::isfinite(s) && s > 0.0f);
}

// Σ over rows and groups of δ_g·H_gg·δ_gᵀ, δ = w - ŵ.
double group_block_error(const float* w, const float* w_hat, int64_t rows, int64_t cols, int64_t gs, const Hessian& h) {
  double sum = 0.0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g0 = 0; g0 < cols; g0 += gs) {
      const int64_t n = std::min(gs, cols - g0);
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j)
          sum += (static_cast<double>(w[r * cols + g0 + i]) - w_hat[r * cols + g0 + i]) *
                 h.h[(g0 + i) * cols + g0 + j] *
                 (static_cast<double>(w[r * cols + g0 + j]) - w_hat[r * cols + g0 + j]);
    }
  return sum;
}

TEST(AwqClip, NeverWorseThanNoClipAndOnlyClamps) {
  Block b = make_block({64}, 128, 512, 4, 6);
  std::mt19937 gen(7);
  std::uniform_int_distribution<int64_t> pick(0, 64 * 128 - 1);
  std::vector<float>& w0 = b.w[0];
  for (int k = 0; k < 64; ++k) w0[pick(gen)] *= 6.0f;  // weight outliers, so clipping pays
  for (const bool symmetric : {false, true})
    for (const int bits : {3, 4}) {
      IntGridSpec g = int_grid(bits);
      g.symmetric = symmetric;
      const MatrixRoundTrip rt = int_group_round_trip(g, 32);
      std::vector<float> plain(w0.size());
      rt(plain.data(), w0.data(), 64, b.cols);
      const double no_clip = group_block_error(w0.data(), plain.data(), 64, b.cols, 32, b.h);

      std::vector<float> w = w0;
      const double err = awq_clip(w.data(), 64, b.cols, b.h, g, 32, {});
      std::vector<float> clipped(w.size());
      rt(clipped.data(), w.data(), 64, b.cols);
      // The returned error is that of Q(clipped) against the original weights.
      EXPECT_NEAR(err, group_block_error(w0.data(), clipped.data(), 64, b.cols, 32, b.h), 1e-6 * no_clip);
      EXPECT_LE(err, no_clip);
      EXPECT_LT(err, no_clip) << "bits " << bits << " symmetric " << symmetric;  // outliers: clipping helps
      std::printf("clip int%d %s g32: error / no-clip error = %.4f\n", bits, symmetric ? "sym" : "asym",
                  err / no_clip);
      int64_t changed = 0;
      for (size_t i = 0; i < w.size(); ++i) {
        EXPECT_LE(std::fabs(w[i]), std::fabs(w0[i])) << i;  // clamped towards 0, never grown
        EXPECT_GE(w[i] * w0[i], 0.0f) << i;
        changed += w[i] != w0[i];
      }
      EXPECT_GT(changed, 0);
    }
}

TEST(AwqClip, NoShrinkLeavesWeightsAlone) {
  const Block b = make_block({16}, 64, 128, 0, 8);
  std::vector<float> w = b.w[0];
  AwqClipOptions o;
  o.max_shrink = 0.0f;
  const IntGridSpec g = int_grid(4);
  const double err = awq_clip(w.data(), 16, b.cols, b.h, g, -1, o);
  EXPECT_EQ(w, b.w[0]);
  std::vector<float> q(w.size());
  int_group_round_trip(g, -1)(q.data(), w.data(), 16, b.cols);
  EXPECT_NEAR(err, group_block_error(w.data(), q.data(), 16, b.cols, b.cols, b.h), 1e-6 * err);
}

TEST(AwqErrors, BadInputsThrow) {
  Block b = make_block({16}, 64, 64, 0, 9);
  const MatrixRoundTrip rt = int_group_round_trip(int_grid(4), 32);
  const float* m = b.mean_abs_x.data();
  EXPECT_THROW(awq_search_scales({}, b.cols, m, b.h, {}), Error);
  EXPECT_THROW(awq_search_scales(linears_of(b, rt), 32, m, b.h, {}), Error);  // Hessian is for 64
  EXPECT_THROW(awq_search_scales(linears_of(b, rt), b.cols, nullptr, b.h, {}), Error);
  EXPECT_THROW(awq_search_scales({{b.w[0].data(), 0, rt}}, b.cols, m, b.h, {}), Error);
  EXPECT_THROW(awq_search_scales({{b.w[0].data(), 16, nullptr}}, b.cols, m, b.h, {}), Error);
  EXPECT_THROW(awq_search_scales({{nullptr, 16, rt}}, b.cols, m, b.h, {}), Error);
  AwqOptions zero;
  zero.n_grid = 0;
  EXPECT_THROW(awq_search_scales(linears_of(b, rt), b.cols, m, b.h, zero), Error);
  std::vector<float> neg = b.mean_abs_x;
  neg[5] = -1.0f;
  EXPECT_THROW(awq_search_scales(linears_of(b, rt), b.cols, neg.data(), b.h, {}), Error);
  try {
    awq_search_scales(linears_of(b, rt), 32, m, b.h, {});
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("awq: Hessian is for 64 columns"), std::string::npos) << e.what();
  }

  std::vector<float> w = b.w[0];
  const IntGridSpec g = int_grid(4);
  EXPECT_THROW(awq_clip(w.data(), 16, 32, b.h, g, 32, {}), Error);
  EXPECT_THROW(awq_clip(w.data(), 0, b.cols, b.h, g, 32, {}), Error);
  EXPECT_THROW(awq_clip(nullptr, 16, b.cols, b.h, g, 32, {}), Error);
  EXPECT_THROW(awq_clip(w.data(), 16, b.cols, b.h, g, 0, {}), Error);
  EXPECT_THROW(awq_clip(w.data(), 16, b.cols, b.h, int_grid(5), 32, {}), Error);
  AwqClipOptions bad;
  bad.max_shrink = 1.0f;
  EXPECT_THROW(awq_clip(w.data(), 16, b.cols, b.h, g, 32, bad), Error);
  bad = {};
  bad.n_grid = 0;
  EXPECT_THROW(awq_clip(w.data(), 16, b.cols, b.h, g, 32, bad), Error);
  EXPECT_EQ(w, b.w[0]);  // nothing touched on error
}

// Records the inputs of every linear layer of a forward pass.
struct Recorder final : LinearInputObserver {
  std::map<std::string, std::vector<float>> x;
  std::map<std::string, int64_t> cols;
  void observe(const std::string& name, const float* in, int64_t m, int64_t c) override {
    x[name].insert(x[name].end(), in, in + m * c);
    cols[name] = c;
  }
};

// stories260K, real inputs: the q/k/v block and the gate/up block of layer 1
// on the first TinyStories validation stories, at 3-bit g32 and Q4_0.
TEST(AwqRealModel, Stories260KBlocks) {
  LMPACK_REQUIRE_SHARED();
  const Checkpoint ckpt = load_checkpoint(testing::shared_path("models/stories260K/stories260K.gguf"));
  auto weights = build_weights(ckpt);
  const ModelConfig& c = weights->config;
  std::ifstream in(testing::shared_path("data/tinystories-valid/tinystories_valid_first1000.txt"));
  ASSERT_TRUE(in) << "TinyStories text missing";
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  const std::unique_ptr<Tokenizer> tok = make_tokenizer(*ckpt.vocab, ckpt.path);
  std::vector<int32_t> ids = tok->encode(all.substr(0, 6000), true);
  ids.resize(std::min<size_t>(ids.size(), 512));
  auto fwd = make_fast_forward(weights, 512);
  Recorder rec;
  fwd->set_observer(&rec);
  std::vector<float> logits(ids.size() * c.vocab_size);
  fwd->forward(ids.data(), static_cast<int64_t>(ids.size()), logits.data());

  const ReferenceLayerWeights& lw = weights->reference().layers[1];
  struct Case {
    const char* input;
    std::vector<std::pair<const float*, int64_t>> linears;
  };
  const std::vector<Case> cases = {
      {"blk.1.attn_q.weight", {{lw.wq, c.q_dim()}, {lw.wk, c.kv_dim()}, {lw.wv, c.kv_dim()}}},
      {"blk.1.ffn_up.weight", {{lw.w_gate, c.hidden_dim}, {lw.w_up, c.hidden_dim}}},
  };
  IntGridSpec g3 = int_grid(3);
  for (const Case& k : cases) {
    Block b;
    b.cols = rec.cols.at(k.input);
    b.x = rec.x.at(k.input);
    b.tokens = static_cast<int64_t>(b.x.size()) / b.cols;
    ASSERT_EQ(b.tokens, static_cast<int64_t>(ids.size()));
    for (const auto& [w, rows] : k.linears) {
      b.w.emplace_back(w, w + rows * b.cols);
      b.rows.push_back(rows);
    }
    finish_stats(b);
    const double r3 = check_search(b, int_group_round_trip(g3, 32));
    const double rq = check_search(b, q4_0_by_rows());
    EXPECT_LT(r3, 1.0) << k.input;  // a real gain on real activations, not just a tie at α = 0
    EXPECT_LT(rq, 1.0) << k.input;
    std::printf("stories260K %s inputs: AWQ error / alpha-0 error: int3 g32 %.3f, Q4_0 %.3f\n", k.input, r3, rq);
  }
}

}  // namespace
}  // namespace lmpack
