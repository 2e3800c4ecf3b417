#include "core/dtype.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

namespace lmpack {
namespace {

// Block sizes are the formats layer's: tests/formats/format_sizes_test.cpp.
TEST(DType, NamesAndGgmlIds) {
  EXPECT_EQ(dtype_from_name("Q4_K"), DType::Q4_K);
  EXPECT_EQ(dtype_name(DType::Q4_K), "q4_K");
  EXPECT_EQ(dtype_from_ggml_id(30u), DType::BF16);
  EXPECT_EQ(dtype_from_ggml_id(99u), std::nullopt);
}

TEST(DType, Fp16RoundTripsEveryHalf) {
  for (uint32_t h = 0; h < 0x10000u; ++h) {
    float f = fp16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(f32_to_fp16(f), h) << "half 0x" << std::hex << h;
  }
}

TEST(DType, Fp16RoundsToNearestEven) {
  EXPECT_EQ(fp16_to_f32(f32_to_fp16(1.0f + 1.0f / 2048)), 1.0f);          // tie -> even
  EXPECT_EQ(fp16_to_f32(f32_to_fp16(1.0f + 3.0f / 2048)), 1.0f + 4.0f / 2048);
  EXPECT_EQ(fp16_to_f32(f32_to_fp16(65520.0f)), std::numeric_limits<float>::infinity());
  EXPECT_EQ(fp16_to_f32(f32_to_fp16(5.96046448e-08f)), 5.96046448e-08f);  // smallest subnormal
  EXPECT_EQ(fp16_to_f32(f32_to_fp16(2.0e-8f)), 0.0f);
}

TEST(DType, Bf16) {
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(1.5f)), 1.5f);
  EXPECT_EQ(f32_to_bf16(1.0f + 1.0f / 256), f32_to_bf16(1.0f));  // tie -> even
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
}

}  // namespace
}  // namespace lmpack
