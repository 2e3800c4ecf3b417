// The factor of H⁻¹ a sweep keeps with its Hessian (methods/gptq_hessian.h):
// a second layer over the same inputs must get exactly what it would get
// from a Hessian of its own, and a Hessian that changed must not be given
// the factor of what it was.
#include "methods/gptq_hessian.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "methods/gptq.h"
#include "methods/gptq_format.h"
#include "synthetic_layer.h"

namespace lmpack {
namespace {

using testing::Layer;
using testing::make_layer;

// A copy of h without what an earlier sweep kept with it.
Hessian fresh(const Hessian& h) {
  Hessian c;
  c.cols = h.cols;
  c.samples = h.samples;
  c.h = h.h;
  return c;
}

void expect_same(const QuantizedMatrix& a, const QuantizedMatrix& b, const char* what) {
  EXPECT_EQ(a.codes, b.codes) << what;
  EXPECT_EQ(a.scales, b.scales) << what;
  EXPECT_EQ(a.zeros, b.zeros) << what;
  EXPECT_EQ(a.data, b.data) << what;
  EXPECT_EQ(a.dequantized, b.dequantized) << what;
}

TEST(GptqHessian, LayersSharingInputsShareTheFactorAndGetTheSameResults) {
  const Layer l = make_layer(48, 256, 1024, 4, 21);
  const Layer other = make_layer(48, 256, 16, 0, 22);  // other weights; its inputs are not used
  Hessian shared = fresh(l.h);
  GptqOptions o;
  o.grid = {.bits = 4};
  o.group_size = 64;
  for (bool act_order : {false, true}) {
    o.act_order = act_order;
    const QuantizedMatrix first = gptq_quantize(l.w.data(), l.rows, l.cols, shared, o);
    ASSERT_NE(shared.derived, nullptr) << "the sweep keeps its factor";
    const auto kept = gptq_kept_factor(shared, gptq_factor_key(shared, o.damp, act_order));
    ASSERT_NE(kept, nullptr);
    const QuantizedMatrix second = gptq_quantize(other.w.data(), other.rows, other.cols, shared, o);
    EXPECT_EQ(gptq_kept_factor(shared, gptq_factor_key(shared, o.damp, act_order)), kept) << "reused, not redone";
    expect_same(first, gptq_quantize(l.w.data(), l.rows, l.cols, fresh(l.h), o), "first layer");
    expect_same(second, gptq_quantize(other.w.data(), other.rows, other.cols, fresh(l.h), o), "second layer");
  }
  // Onto a block format, as the pipeline's q, k and v do.
  const QuantizedMatrix q = gptq_quantize_format(l.w.data(), l.rows, l.cols, shared, DType::Q4_0, nullptr, {});
  const QuantizedMatrix k = gptq_quantize_format(other.w.data(), other.rows, other.cols, shared, DType::Q4_0, nullptr, {});
  expect_same(q, gptq_quantize_format(l.w.data(), l.rows, l.cols, fresh(l.h), DType::Q4_0, nullptr, {}), "Q4_0 q");
  expect_same(k, gptq_quantize_format(other.w.data(), other.rows, other.cols, fresh(l.h), DType::Q4_0, nullptr, {}),
              "Q4_0 k");
}

TEST(GptqHessian, TheKeyTellsDampOrderAndContentsApart) {
  const Layer l = make_layer(8, 64, 256, 2, 23);
  const GptqFactorKey base = gptq_factor_key(l.h, 0.01, false);
  EXPECT_EQ(gptq_factor_key(l.h, 0.01, false).fingerprint, base.fingerprint) << "deterministic";
  Hessian edited = fresh(l.h);
  edited.h[5 * 64 + 9] = std::nextafter(edited.h[5 * 64 + 9], 1e300);  // one entry, its last bit
  EXPECT_NE(gptq_factor_key(edited, 0.01, false).fingerprint, base.fingerprint);
  Hessian more = fresh(l.h);
  more.samples += 1;
  EXPECT_NE(gptq_factor_key(more, 0.01, false).fingerprint, base.fingerprint);

  Hessian h = fresh(l.h);
  (void)gptq_keep_factor(h, base, std::vector<float>(64 * 64, 1.0f));
  EXPECT_NE(gptq_kept_factor(h, base), nullptr);
  EXPECT_EQ(gptq_kept_factor(h, gptq_factor_key(h, 0.02, false)), nullptr) << "other damp";
  EXPECT_EQ(gptq_kept_factor(h, gptq_factor_key(h, 0.01, true)), nullptr) << "other order";
  h.h[0] *= 2.0;
  EXPECT_EQ(gptq_kept_factor(h, gptq_factor_key(h, 0.01, false)), nullptr) << "edited in place";
}

TEST(GptqHessian, AnEditedOrGrownHessianGetsItsOwnFactor) {
  Layer l = make_layer(32, 128, 512, 3, 24);
  GptqOptions o;
  o.grid = {.bits = 3};
  o.group_size = 32;
  Hessian h = fresh(l.h);
  (void)gptq_quantize(l.w.data(), l.rows, l.cols, h, o);
  // Edited in place: the diagonal doubled.
  for (int64_t i = 0; i < l.cols; ++i) h.h[i * l.cols + i] *= 2.0;
  expect_same(gptq_quantize(l.w.data(), l.rows, l.cols, h, o), gptq_quantize(l.w.data(), l.rows, l.cols, fresh(h), o),
              "edited");
  // Grown by hessian_add, which drops what was kept.
  ASSERT_NE(h.derived, nullptr);
  hessian_add(h, l.x.data(), 64);
  EXPECT_EQ(h.derived, nullptr);
  expect_same(gptq_quantize(l.w.data(), l.rows, l.cols, h, o), gptq_quantize(l.w.data(), l.rows, l.cols, fresh(h), o),
              "grown");
}

}  // namespace
}  // namespace lmpack
