// attention_causal (fast and reference) against attention written out in
// double in the test: strided rows, a query block starting mid-cache, GQA
// offsets handled by the caller.
#include "kernels/attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace lmpack {
namespace {

std::vector<float> random_vector(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

struct Case {
  int64_t n_q, pos0, head_dim;
};

class AttentionTest : public ::testing::TestWithParam<Case> {};

TEST_P(AttentionTest, MatchesNaive) {
  const auto [n_q, pos0, hd] = GetParam();
  // Two query heads sharing one KV head inside wider rows (q_dim = 3*hd,
  // kv_dim = 2*hd); we test query head 1 against KV head 1.
  const int64_t q_stride = 3 * hd, kv_stride = 2 * hd, out_stride = 3 * hd;
  const int64_t n_kv = pos0 + n_q;
  auto q = random_vector(n_q * q_stride, 1), k = random_vector(n_kv * kv_stride, 2),
       v = random_vector(n_kv * kv_stride, 3);
  const float scale = 1.0f / std::sqrt(float(hd));
  const float* qh = q.data() + hd;
  const float* kh = k.data() + hd;
  const float* vh = v.data() + hd;
  for (int variant = 0; variant < 2; ++variant) {
    std::vector<float> out(n_q * out_stride, 123.0f), scratch(n_kv);
    (variant == 0 ? attention_causal : attention_causal_reference)(out.data() + hd, qh, kh, vh, scratch.data(), n_q,
                                                                   pos0, hd, out_stride, q_stride, kv_stride, scale, 0, 0.0f);
    for (int64_t i = 0; i < n_q; ++i) {
      const int64_t keys = pos0 + i + 1;
      std::vector<double> p(keys);
      double max = -1e300, z = 0;
      for (int64_t t = 0; t < keys; ++t) {
        double s = 0;
        for (int64_t d = 0; d < hd; ++d) s += double(qh[i * q_stride + d]) * kh[t * kv_stride + d];
        p[t] = s * scale;
        max = std::max(max, p[t]);
      }
      for (double& x : p) z += (x = std::exp(x - max));
      for (int64_t d = 0; d < hd; ++d) {
        double o = 0;
        for (int64_t t = 0; t < keys; ++t) o += p[t] / z * vh[t * kv_stride + d];
        ASSERT_NEAR(out[i * out_stride + hd + d], o, 1e-5) << "variant " << variant << " query " << i << " d " << d;
      }
      // Columns of the other heads are untouched.
      for (int64_t d = 0; d < hd; ++d) ASSERT_EQ(out[i * out_stride + d], 123.0f);
      for (int64_t d = 2 * hd; d < 3 * hd; ++d) ASSERT_EQ(out[i * out_stride + d], 123.0f);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, AttentionTest,
                         ::testing::Values(Case{1, 0, 8}, Case{1, 37, 8}, Case{16, 0, 8}, Case{5, 11, 32},
                                           Case{16, 100, 64}, Case{3, 0, 2}, Case{7, 250, 128},
                                           Case{70, 0, 16}, Case{130, 33, 32}));

TEST(Attention, FirstPositionReturnsItsOwnValue) {
  // With a single key, softmax is 1 and the output is v_0 whatever q is.
  const float q[4] = {5, -3, 2, 1}, k[4] = {1, 2, 3, 4}, v[4] = {0.5f, -1, 2, 7};
  float out[4], scratch[1];
  attention_causal(out, q, k, v, scratch, 1, 0, 4, 4, 4, 4, 0.5f);
  for (int d = 0; d < 4; ++d) EXPECT_FLOAT_EQ(out[d], v[d]);
}

// A sliding window w: query i attends exactly as if the keys before
// position pos0 + i - w + 1 did not exist (both kernels, windows shorter and
// longer than the history, a block of queries crossing the window's start).
TEST(Attention, SlidingWindowDropsTheKeysBeforeIt) {
  const int64_t hd = 8, n_q = 6, pos0 = 9, n_kv = pos0 + n_q;
  auto q = random_vector(n_q * hd, 4), k = random_vector(n_kv * hd, 5), v = random_vector(n_kv * hd, 6);
  for (int64_t window : {1, 3, 10, 15, 100}) {
    for (int variant = 0; variant < 2; ++variant) {
      SCOPED_TRACE("window " + std::to_string(window) + (variant == 0 ? " fast" : " reference"));
      auto run = variant == 0 ? attention_causal : attention_causal_reference;
      std::vector<float> out(n_q * hd), scratch(n_kv);
      run(out.data(), q.data(), k.data(), v.data(), scratch.data(), n_q, pos0, hd, hd, hd, hd, 0.3f, window, 0.0f);
      for (int64_t i = 0; i < n_q; ++i) {
        // The same query alone against only the keys it may see, from position 0.
        const int64_t first = std::max<int64_t>(0, pos0 + i - window + 1), keys = pos0 + i + 1 - first;
        std::vector<float> alone(hd), s(keys);
        attention_causal_reference(alone.data(), q.data() + i * hd, k.data() + first * hd, v.data() + first * hd,
                                   s.data(), 1, keys - 1, hd, hd, hd, hd, 0.3f);
        for (int64_t d = 0; d < hd; ++d) ASSERT_NEAR(out[i * hd + d], alone[d], 1e-5f) << "query " << i;
      }
    }
  }
  // A window of one: every query returns its own value.
  std::vector<float> out(n_q * hd), scratch(n_kv);
  attention_causal(out.data(), q.data(), k.data(), v.data(), scratch.data(), n_q, pos0, hd, hd, hd, hd, 0.3f, 1);
  for (int64_t i = 0; i < n_q; ++i)
    for (int64_t d = 0; d < hd; ++d) ASSERT_EQ(out[i * hd + d], v[(pos0 + i) * hd + d]);
}

}  // namespace
}  // namespace lmpack

namespace lmpack {
namespace {

// Blocks of 8 or more queries take the matrix-product path (blocks of 64
// queries, keys masked per row); it must agree with the reference with
// sliding windows and Gemma 2's soft cap too, across block boundaries.
TEST(Attention, BlockedPathAgreesWithTheReferenceWithWindowsAndSoftcap) {
  const int64_t hd = 16, n_q = 150, pos0 = 30, n_kv = pos0 + n_q;
  auto q = random_vector(n_q * hd, 7), k = random_vector(n_kv * hd, 8), v = random_vector(n_kv * hd, 9);
  for (int64_t window : {0, 1, 20, 100}) {
    for (float softcap : {0.0f, 0.5f}) {
      SCOPED_TRACE("window " + std::to_string(window) + " softcap " + std::to_string(softcap));
      std::vector<float> fast(n_q * hd), ref(n_q * hd), scratch(n_kv);
      attention_causal(fast.data(), q.data(), k.data(), v.data(), scratch.data(), n_q, pos0, hd, hd, hd, hd, 0.7f,
                       window, softcap);
      attention_causal_reference(ref.data(), q.data(), k.data(), v.data(), scratch.data(), n_q, pos0, hd, hd, hd, hd,
                                 0.7f, window, softcap);
      for (int64_t i = 0; i < n_q * hd; ++i) ASSERT_NEAR(fast[i], ref[i], 1e-5f) << "element " << i;
    }
  }
}

}  // namespace
}  // namespace lmpack
