// Block sizes of every DType (formats/format_sizes.h) against GGML's
// (ggml.c type_traits: blck_size, type_size), which decode_to_f32 accepts,
// and the format table's rows against their block structs.
#include "formats/format_sizes.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "formats/decode.h"
#include "formats/format.h"
#include "formats/q4_0.h"
#include "formats/q8_k.h"

namespace lmpack {
namespace {

struct GgmlSize {
  DType type;
  int64_t block_elements;
  int64_t block_bytes;
  bool decodable;
};

constexpr GgmlSize kGgmlSizes[] = {
    {DType::F32, 1, 4, true},        {DType::F16, 1, 2, true},      {DType::Q4_0, 32, 18, true},
    {DType::Q4_1, 32, 20, true},     {DType::Q5_0, 32, 22, true},   {DType::Q5_1, 32, 24, true},
    {DType::Q8_0, 32, 34, true},     {DType::Q8_1, 32, 36, false},  {DType::Q2_K, 256, 84, true},
    {DType::Q3_K, 256, 110, true},   {DType::Q4_K, 256, 144, true}, {DType::Q5_K, 256, 176, true},
    {DType::Q6_K, 256, 210, true},   {DType::Q8_K, 256, 292, false}, {DType::IQ4_NL, 32, 18, true},
    {DType::I8, 1, 1, false},        {DType::I16, 1, 2, false},     {DType::I32, 1, 4, false},
    {DType::I64, 1, 8, false},       {DType::F64, 1, 8, false},     {DType::BF16, 1, 2, true},
};

TEST(FormatSizes, MatchGgmlBlockSizes) {
  EXPECT_EQ(dtype_bytes(DType::Q4_0, 64), 36u);
  EXPECT_EQ(dtype_bytes(DType::Q4_K, 256), 144u);
  EXPECT_EQ(dtype_bytes(DType::Q6_K, 512), 420u);
  EXPECT_EQ(dtype_bytes(DType::BF16, 3), 6u);
  EXPECT_FALSE(dtype_row_fits(DType::Q4_K, 64));
  for (const GgmlSize& g : kGgmlSizes) {
    SCOPED_TRACE(dtype_name(g.type));
    EXPECT_EQ(dtype_block_elements(g.type), g.block_elements);
    EXPECT_EQ(dtype_block_bytes(g.type), g.block_bytes);
    EXPECT_EQ(dtype_bytes(g.type, 3 * g.block_elements), static_cast<size_t>(3 * g.block_bytes));
    EXPECT_TRUE(dtype_row_fits(g.type, 2 * g.block_elements));
    EXPECT_EQ(dtype_row_fits(g.type, g.block_elements + 1), g.block_elements == 1);
    EXPECT_EQ(decodable_to_f32(g.type), g.decodable);
  }
}

TEST(FormatSizes, TableRowsAreTheirBlockStructs) {
  EXPECT_EQ(format_ops(DType::Q4_0).block_bytes, static_cast<int64_t>(sizeof(BlockQ4_0)));
  EXPECT_EQ(format_ops(DType::Q8_K).block_bytes, static_cast<int64_t>(sizeof(BlockQ8_K)));
  EXPECT_EQ(format_ops(DType::Q8_K).block_elements, kQK_K);
  EXPECT_TRUE(format_ops(DType::Q8_1).activation_only);
  EXPECT_FALSE(format_ops(DType::Q8_0).activation_only);
}

TEST(FormatSizes, TypesWithoutDecoderAreRefused) {
  std::vector<float> out(256);
  const std::vector<uint8_t> in(2048, 0);
  for (DType t : {DType::Q8_1, DType::Q8_K, DType::I8, DType::I32, DType::F64}) {
    SCOPED_TRACE(dtype_name(t));
    try {
      decode_to_f32(out.data(), in.data(), t, 256);
      ADD_FAILURE() << "decoded";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), std::string(dtype_name(t)) + ": cannot be decoded");
    }
  }
}

}  // namespace
}  // namespace lmpack
