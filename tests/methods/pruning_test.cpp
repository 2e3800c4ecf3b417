// Pruning methods (methods/sparsity.h, magnitude_prune.h, wanda.h,
// sparsegpt.h), property tests on synthetic layers (synthetic_layer.h):
// inputs X = Z·A (a random mixing A correlates the columns) with a few
// columns of large activations.
// The measure is the output error ||W·Xᵀ - Ŵ·Xᵀ||_F computed directly.
// Checked: exact per-row counts (unstructured) and exact N:M counts for every
// method; SparseGPT < Wanda < magnitude in output error at 50%, 2:4 and 4:8;
// joint SparseGPT + quantization keeps the mask (exact zeros on symmetric
// grids, counted on the grids with mins) and beats pruning then RTN; bad
// patterns are refused.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/error.h"
#include "formats/format.h"
#include "formats/format_sizes.h"
#include "methods/gptq.h"
#include "methods/gptq_format.h"
#include "methods/magnitude_prune.h"
#include "methods/sparsegpt.h"
#include "methods/sparsity.h"
#include "methods/wanda.h"
#include "synthetic_layer.h"

namespace lmpack {
namespace {

using testing::Layer;
using testing::make_layer;
using testing::output_error;
using testing::shared_layer;

SparsityPattern unstructured(double s) { return SparsityPattern{s, 0, 0}; }
SparsityPattern n_m(int n, int m) { return SparsityPattern{0.0, n, m}; }

// The pattern's exact counts, on the mask and on the weights: every masked
// weight is 0, each row prunes exactly its share, N:M groups hold exactly n.
void expect_pattern(const SparsityMask& mask, const std::vector<float>& w, const SparsityPattern& p,
                    const std::string& what) {
  ASSERT_EQ(mask.pruned.size(), w.size()) << what;
  const int64_t cols = mask.cols;
  for (int64_t r = 0; r < mask.rows; ++r) {
    int64_t pruned = 0;
    for (int64_t c = 0; c < cols; ++c) {
      if (mask.pruned[r * cols + c] == 0) continue;
      ++pruned;
      ASSERT_EQ(w[r * cols + c], 0.0f) << what << " row " << r << " col " << c;
    }
    ASSERT_EQ(pruned, pruned_before(p, cols)) << what << " row " << r;
    if (p.is_n_m())
      for (int64_t c0 = 0; c0 < cols; c0 += p.m) {
        int64_t k = 0;
        for (int64_t c = c0; c < std::min<int64_t>(c0 + p.m, cols); ++c) k += mask.pruned[r * cols + c];
        ASSERT_EQ(k, pruned_before(p, std::min<int64_t>(c0 + p.m, cols)) - pruned_before(p, c0)) << what;
      }
  }
  if (p.is_n_m()) {
    EXPECT_EQ(n_m_violations(w.data(), mask.rows, cols, p.n, p.m), 0) << what;
  }
}

TEST(Sparsity, PrunedBeforeAndParse) {
  EXPECT_EQ(pruned_before(unstructured(0.5), 256), 128);
  EXPECT_EQ(pruned_before(unstructured(0.3), 256), 77);  // round(76.8)
  EXPECT_EQ(pruned_before(n_m(2, 4), 256), 128);
  EXPECT_EQ(pruned_before(n_m(4, 8), 172), 86);  // 21 groups of 8, then floor(4·4/8) = 2
  EXPECT_EQ(pruned_before(n_m(2, 4), 3), 1);     // floor(2·3/4)
  const SparsityPattern p = parse_n_m_pattern("4:8");
  EXPECT_EQ(p.n, 4);
  EXPECT_EQ(p.m, 8);
  EXPECT_TRUE(p.is_n_m());
  std::vector<float> w = {0, 1, 0, 2, 3, 0, 4, 5};  // groups of 4: 2 zeros, then 1 zero
  EXPECT_EQ(n_m_violations(w.data(), 1, 8, 2, 4), 1);
  EXPECT_EQ(n_m_violations(w.data(), 2, 4, 2, 4), 1);
  EXPECT_DOUBLE_EQ(achieved_sparsity(w.data(), 1, 8), 3.0 / 8.0);
}

TEST(Sparsity, BadPatternsRefused) {
  const auto expect_refused = [](const SparsityPattern& p, const std::string& where) {
    try {
      validate_sparsity_pattern(p);
      ADD_FAILURE() << "accepted " << p.sparsity << " " << p.n << ":" << p.m;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind(where + ":", 0), 0u) << e.what();
    }
  };
  expect_refused(unstructured(1.0), "sparsity");
  expect_refused(unstructured(-0.1), "sparsity");
  expect_refused(unstructured(std::nan("")), "sparsity");
  expect_refused(n_m(4, 4), "pattern");
  expect_refused(n_m(0, 4), "pattern");
  expect_refused(n_m(3, 2), "pattern");
  for (const char* text : {"0:0", "0:4", "4:4", "1:1", "2:0"})  // "0:0" once read as "no pattern"
    EXPECT_THROW(parse_n_m_pattern(text), Error) << text;
  EXPECT_EQ(parse_n_m_pattern("2:4").m, 4);
  expect_refused(n_m(2, 0), "pattern");
  expect_refused(n_m(-1, 4), "pattern");
  for (const char* text : {"2-4", "a:4", "2:4x", "", ":", "2:", "5:4"})
    EXPECT_THROW(parse_n_m_pattern(text), Error) << text;

  const Layer& l = shared_layer();
  EXPECT_THROW(magnitude_prune_mask(l.w.data(), l.rows, l.cols, unstructured(1.5)), Error);
  EXPECT_THROW(wanda_prune_mask(l.w.data(), l.rows, l.cols, l.norms.data(), n_m(4, 2)), Error);
  EXPECT_THROW(sparsegpt_prune(l.w.data(), l.rows, l.cols, l.h, n_m(2, 1), {}), Error);
  std::vector<float> bad_norms = l.norms;
  bad_norms[3] = -1.0f;
  EXPECT_THROW(wanda_prune_mask(l.w.data(), l.rows, l.cols, bad_norms.data(), unstructured(0.5)), Error);
  SparseGptOptions both;
  both.int_grid = IntGridSpec{};
  both.format = DType::Q4_0;
  EXPECT_THROW(sparsegpt_prune(l.w.data(), l.rows, l.cols, l.h, unstructured(0.5), both), Error);
  SparseGptOptions f16;
  f16.format = DType::F16;
  EXPECT_THROW(sparsegpt_prune(l.w.data(), l.rows, l.cols, l.h, unstructured(0.5), f16), Error);
}

// Every method, unstructured (an exact count that is not a whole half) and
// N:M, including a width that leaves a partial group (172 = 21·8 + 4).
TEST(Pruning, ExactCountsEveryMethod) {
  const Layer& wide = shared_layer();
  const Layer narrow = make_layer(24, 172, 400, 2, 7);
  for (const Layer* lp : {&wide, &narrow}) {
    const Layer& l = *lp;
    for (const SparsityPattern& p : {unstructured(0.3), unstructured(0.5), n_m(2, 4), n_m(4, 8), n_m(1, 3)}) {
      const std::string tag = std::to_string(l.cols) + " cols, " +
                              (p.is_n_m() ? std::to_string(p.n) + ":" + std::to_string(p.m)
                                          : std::to_string(p.sparsity));
      const SparsityMask mag = magnitude_prune_mask(l.w.data(), l.rows, l.cols, p);
      expect_pattern(mag, apply_mask(l.w.data(), mag), p, "magnitude " + tag);
      const SparsityMask wan = wanda_prune_mask(l.w.data(), l.rows, l.cols, l.norms.data(), p);
      expect_pattern(wan, apply_mask(l.w.data(), wan), p, "wanda " + tag);
      SparseGptOptions o;
      o.block_size = 64;
      const SparseGptResult sg = sparsegpt_prune(l.w.data(), l.rows, l.cols, l.h, p, o);
      expect_pattern(sg.mask, sg.weights, p, "sparsegpt " + tag);
      EXPECT_EQ(sg.pruned_nonzero, 0) << tag;
      EXPECT_NEAR(achieved_sparsity(sg.weights.data(), l.rows, l.cols),
                  static_cast<double>(pruned_before(p, l.cols)) / l.cols, 1e-12)
          << tag;
      o.int_grid = IntGridSpec{4, false};
      o.group_size = 32;
      const SparseGptResult sq = sparsegpt_prune(l.w.data(), l.rows, l.cols, l.h, p, o);
      expect_pattern(sq.mask, sq.weights, p, "sparsegpt+int4 " + tag);
    }
  }
}

// Magnitude picks the smallest |w| of each row: every kept |w| >= every pruned |w|.
TEST(Pruning, MagnitudeKeepsTheLargest) {
  const Layer& l = shared_layer();
  const SparsityMask m = magnitude_prune_mask(l.w.data(), l.rows, l.cols, unstructured(0.5));
  for (int64_t r = 0; r < l.rows; ++r) {
    float max_pruned = 0.0f, min_kept = INFINITY;
    for (int64_t c = 0; c < l.cols; ++c) {
      const float a = std::fabs(l.w[r * l.cols + c]);
      if (m.pruned[r * l.cols + c]) max_pruned = std::max(max_pruned, a);
      else min_kept = std::min(min_kept, a);
    }
    EXPECT_LE(max_pruned, min_kept) << r;
  }
}

// Norms from diag(H) rank like the true ‖X_j‖ (a common factor sqrt(N/2)).
TEST(Pruning, WandaNormsFromHessian) {
  const Layer& l = shared_layer();
  const std::vector<float> hn = wanda_column_norms(l.h);
  const double k = std::sqrt(static_cast<double>(l.tokens) / 2.0);
  for (int64_t c = 0; c < l.cols; ++c) EXPECT_NEAR(hn[c] * k, l.norms[c], 1e-3 * l.norms[c]) << c;
  const SparsityMask a = wanda_prune_mask(l.w.data(), l.rows, l.cols, l.norms.data(), unstructured(0.5));
  const SparsityMask b = wanda_prune_mask(l.w.data(), l.rows, l.cols, hn.data(), unstructured(0.5));
  int64_t differ = 0;
  for (size_t i = 0; i < a.pruned.size(); ++i) differ += a.pruned[i] != b.pruned[i];
  EXPECT_LE(differ, 4) << "of " << a.pruned.size();  // only float near-ties at the threshold may flip
}

TEST(Pruning, SparseGptWithoutPruningKeepsTheWeights) {
  const Layer& l = shared_layer();
  const SparseGptResult r = sparsegpt_prune(l.w.data(), l.rows, l.cols, l.h, unstructured(0.0), {});
  EXPECT_EQ(r.weights, l.w);
  EXPECT_EQ(mask_sparsity(r.mask), 0.0);
}

// Output error: SparseGPT < Wanda < magnitude on correlated inputs with outliers.
TEST(Pruning, ErrorOrderSparseGptWandaMagnitude) {
  const Layer& l = shared_layer();
  const double base = output_error(l, std::vector<float>(l.w.size(), 0.0f));  // ||W·Xᵀ||
  for (const SparsityPattern& p : {unstructured(0.5), n_m(2, 4), n_m(4, 8)}) {
    const double mag = output_error(l, apply_mask(l.w.data(), magnitude_prune_mask(l.w.data(), l.rows, l.cols, p)));
    const double wan =
        output_error(l, apply_mask(l.w.data(), wanda_prune_mask(l.w.data(), l.rows, l.cols, l.norms.data(), p)));
    const double sg = output_error(l, sparsegpt_prune(l.w.data(), l.rows, l.cols, l.h, p, {}).weights);
    const std::string tag = p.is_n_m() ? std::to_string(p.n) + ":" + std::to_string(p.m) : "50%";
    std::printf("[pruning] %-4s relative output error: magnitude %.4f  wanda %.4f  sparsegpt %.4f  "
                "(wanda/magnitude %.3f, sparsegpt/wanda %.3f)\n",
                tag.c_str(), mag / base, wan / base, sg / base, wan / mag, sg / wan);
    EXPECT_LT(sg, wan) << tag;
    EXPECT_LT(wan, mag) << tag;
  }
}

// Joint SparseGPT + integer grid: the mask is kept with exact zeros (the
// zero point is a code), and it beats SparseGPT then RTN on the same grid.
TEST(Pruning, JointIntQuantizationBeatsPruneThenRtn) {
  const Layer& l = shared_layer();
  for (const SparsityPattern& p : {unstructured(0.5), n_m(2, 4)})
    for (const bool sym : {true, false}) {
      SparseGptOptions o;
      o.int_grid = IntGridSpec{4, sym};
      o.group_size = 64;
      const SparseGptResult joint = sparsegpt_prune(l.w.data(), l.rows, l.cols, l.h, p, o);
      const std::string tag = std::string(p.is_n_m() ? "2:4" : "50%") + (sym ? " int4 sym" : " int4 asym");
      expect_pattern(joint.mask, joint.weights, p, tag);
      EXPECT_EQ(joint.pruned_nonzero, 0) << tag;
      ASSERT_TRUE(joint.quantized.has_value());
      const QuantizedMatrix& q = *joint.quantized;
      for (int64_t i = 0; i < l.rows * l.cols; ++i) {
        const int64_t r = i / l.cols, g = q.g_idx[i % l.cols];
        ASSERT_EQ(q.dequantized[i],
                  q.scales[r * q.n_groups + g] * static_cast<float>(q.codes[i] - q.zeros[r * q.n_groups + g]));
      }
      const SparseGptResult pruned = sparsegpt_prune(l.w.data(), l.rows, l.cols, l.h, p, {});
      const QuantizedMatrix rtn = rtn_quantize(pruned.weights.data(), l.rows, l.cols, *o.int_grid, o.group_size);
      const double e_joint = output_error(l, joint.weights), e_rtn = output_error(l, rtn.dequantized);
      std::printf("[pruning] %-16s joint/prune-then-RTN output error %.3f\n", tag.c_str(), e_joint / e_rtn);
      EXPECT_LT(e_joint, e_rtn) << tag;
    }
}

// Joint SparseGPT + GGUF block grids: symmetric formats keep exact zeros;
// formats with mins report how many pruned positions are not 0. Either way
// the bytes decode to the weights and beat SparseGPT then the format's encoder.
TEST(Pruning, JointFormatQuantization) {
  const Layer& l = shared_layer();
  const SparsityPattern p = unstructured(0.5);
  // One batch of the whole row: the mask is chosen up front from W in both
  // runs, so the two differ only in how the kept weights are rounded.
  SparseGptOptions prune_only;
  prune_only.block_size = l.cols;
  const SparseGptResult pruned = sparsegpt_prune(l.w.data(), l.rows, l.cols, l.h, p, prune_only);
  for (const DType t : {DType::Q4_0, DType::Q5_0, DType::Q8_0, DType::Q3_K, DType::Q6_K, DType::Q4_1, DType::Q5_1,
                        DType::Q2_K, DType::Q4_K, DType::Q5_K}) {
    const bool symmetric = t == DType::Q4_0 || t == DType::Q5_0 || t == DType::Q8_0 || t == DType::Q3_K ||
                           t == DType::Q6_K;
    SparseGptOptions o = prune_only;
    o.format = t;
    const SparseGptResult joint = sparsegpt_prune(l.w.data(), l.rows, l.cols, l.h, p, o);
    const std::string name(dtype_name(t));
    ASSERT_TRUE(joint.quantized.has_value());
    const QuantizedMatrix& fq = *joint.quantized;
    ASSERT_EQ(fq.data.size(), static_cast<size_t>(l.rows) * dtype_bytes(t, l.cols));
    std::vector<float> decoded(l.rows * l.cols);
    for (int64_t r = 0; r < l.rows; ++r)
      format_ops(t).dequantize_row(decoded.data() + r * l.cols, fq.data.data() + r * dtype_bytes(t, l.cols), l.cols);
    ASSERT_EQ(decoded, joint.weights) << name;
    int64_t nonzero = 0;
    for (int64_t i = 0; i < l.rows * l.cols; ++i) nonzero += joint.mask.pruned[i] != 0 && joint.weights[i] != 0.0f;
    EXPECT_EQ(joint.pruned_nonzero, nonzero) << name;
    EXPECT_EQ(joint.mask.pruned, pruned.mask.pruned) << name;
    if (symmetric) {
      expect_pattern(joint.mask, joint.weights, p, name);
    } else {
      EXPECT_EQ(mask_sparsity(joint.mask), 0.5) << name;
    }
    const QuantizedMatrix rtn = rtn_quantize_format(pruned.weights.data(), l.rows, l.cols, t, nullptr);
    const double e_joint = output_error(l, joint.weights), e_rtn = output_error(l, rtn.dequantized);
    std::printf("[pruning] 50%% %-5s joint/prune-then-RTN output error %.4f, pruned positions not 0: %lld of %lld\n",
                name.c_str(), e_joint / e_rtn, static_cast<long long>(joint.pruned_nonzero),
                static_cast<long long>(l.rows * l.cols / 2));
    // At 8 bits the rounding error is ~1e-3 of the pruning error, so the
    // two agree to float noise; elsewhere the joint sweep must win.
    if (t == DType::Q8_0) {
      EXPECT_LT(e_joint, 1.002 * e_rtn) << name;
    } else {
      EXPECT_LT(e_joint, e_rtn) << name;
    }
  }
}

}  // namespace
}  // namespace lmpack
