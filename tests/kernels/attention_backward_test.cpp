// attention_causal_backward (fast and reference) against finite differences
// of attention_causal: two query heads sharing one KV head inside wider
// strided rows, so dk and dv must accumulate over the group.
#include "kernels/attention_backward.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gradient_check.h"
#include "kernels/attention.h"

namespace lmpack {
namespace {

using testing::expect_gradient_near;
using testing::numeric_gradient;
using testing::random_floats;

struct Backward {
  const char* name;
  decltype(&attention_causal_backward) run;
};

class AttentionBackward : public ::testing::TestWithParam<Backward> {};

TEST_P(AttentionBackward, MatchesFiniteDifferences) {
  const int64_t n = 7, hd = 8;
  const int64_t q_stride = 3 * hd, kv_stride = 2 * hd, out_stride = 3 * hd;  // query heads 0, 1 -> KV head 1
  auto q = random_floats(n * q_stride, 11), k = random_floats(n * kv_stride, 12), v = random_floats(n * kv_stride, 13);
  auto c = random_floats(n * out_stride, 14);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  std::vector<float> out(n * out_stride, 0.0f), scratch(2 * n);
  auto loss = [&] {
    for (int64_t h = 0; h < 2; ++h)
      attention_causal(out.data() + h * hd, q.data() + h * hd, k.data() + hd, v.data() + hd, scratch.data(), n, 0,
                       hd, out_stride, q_stride, kv_stride, scale);
    double s = 0.0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t d = 0; d < 2 * hd; ++d) s += static_cast<double>(c[i * out_stride + d]) * out[i * out_stride + d];
    return s;
  };
  std::vector<float> dq(q.size(), 0.0f), dk(k.size(), 0.0f), dv(v.size(), 0.0f);
  for (int64_t h = 0; h < 2; ++h)
    GetParam().run(dq.data() + h * hd, dk.data() + hd, dv.data() + hd, c.data() + h * hd, q.data() + h * hd,
                   k.data() + hd, v.data() + hd, scratch.data(), n, hd, out_stride, q_stride, kv_stride, scale);
  // Only the columns the heads use; the others must stay untouched (0).
  std::vector<size_t> q_cols, kv_cols;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t d = 0; d < hd; ++d) {
      q_cols.push_back(i * q_stride + d);
      q_cols.push_back(i * q_stride + hd + d);
      kv_cols.push_back(i * kv_stride + hd + d);
      EXPECT_EQ(dk[i * kv_stride + d], 0.0f);
      EXPECT_EQ(dq[i * q_stride + 2 * hd + d], 0.0f);
    }
  expect_gradient_near("dq", dq.data(), numeric_gradient(q.data(), q.size(), loss, 1e-3f, q_cols), 2e-3, 1e-2, q_cols);
  expect_gradient_near("dk", dk.data(), numeric_gradient(k.data(), k.size(), loss, 1e-3f, kv_cols), 2e-3, 1e-2,
                       kv_cols);
  expect_gradient_near("dv", dv.data(), numeric_gradient(v.data(), v.size(), loss, 1e-3f, kv_cols), 2e-3, 1e-2,
                       kv_cols);
}

INSTANTIATE_TEST_SUITE_P(FastAndReference, AttentionBackward,
                         ::testing::Values(Backward{"fast", &attention_causal_backward},
                                           Backward{"reference", &attention_causal_backward_reference}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(AttentionBackward, FastEqualsReferenceOnALongerSequence) {
  const int64_t n = 64, hd = 32;
  auto q = random_floats(n * hd, 21, -2.0f, 2.0f), k = random_floats(n * hd, 22, -2.0f, 2.0f),
       v = random_floats(n * hd, 23), dout = random_floats(n * hd, 24);
  std::vector<float> scratch(2 * n);
  std::vector<float> dq1(n * hd), dk1(n * hd, 0.0f), dv1(n * hd, 0.0f), dq2(n * hd), dk2(n * hd, 0.0f),
      dv2(n * hd, 0.0f);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  attention_causal_backward(dq1.data(), dk1.data(), dv1.data(), dout.data(), q.data(), k.data(), v.data(),
                            scratch.data(), n, hd, hd, hd, hd, scale);
  attention_causal_backward_reference(dq2.data(), dk2.data(), dv2.data(), dout.data(), q.data(), k.data(), v.data(),
                                      scratch.data(), n, hd, hd, hd, hd, scale);
  for (int64_t i = 0; i < n * hd; ++i) {
    EXPECT_NEAR(dq1[i], dq2[i], 1e-4f + 1e-4f * std::fabs(dq2[i])) << i;
    EXPECT_NEAR(dk1[i], dk2[i], 1e-4f + 1e-4f * std::fabs(dk2[i])) << i;
    EXPECT_NEAR(dv1[i], dv2[i], 1e-4f + 1e-4f * std::fabs(dv2[i])) << i;
  }
}

}  // namespace
}  // namespace lmpack
