// find_non_finite_weight / explain_non_finite: the first NaN or Inf of a
// model's stored tensors, in F32, F16 and a block type's scale, named by
// tensor, row and column.
#include "runtime/non_finite.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/dtype.h"
#include "formats/format_sizes.h"
#include "formats/q4_0.h"

namespace lmpack {
namespace {

TensorInfo view(const std::string& name, DType type, std::vector<int64_t> shape, const void* data) {
  TensorInfo t;
  t.name = name;
  t.dtype = type;
  t.shape = std::move(shape);
  t.data = static_cast<const uint8_t*>(data);
  t.nbytes = dtype_bytes(type, t.n_elements());
  return t;
}

TEST(NonFinite, FindsTheFirstBadValueInNameOrder) {
  std::vector<float> a(6 * 4, 0.5f), b(3 * 4, 1.0f);
  std::map<std::string, TensorInfo> tensors = {{"a", view("a", DType::F32, {6, 4}, a.data())},
                                               {"b", view("b", DType::F32, {3, 4}, b.data())}};
  EXPECT_FALSE(find_non_finite_weight(tensors).has_value());
  b[1 * 4 + 2] = -INFINITY;
  a[4 * 4 + 3] = std::nanf("");
  auto bad = find_non_finite_weight(tensors);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->tensor, "a");
  EXPECT_EQ(bad->row, 4);
  EXPECT_EQ(bad->col, 3);
  a[4 * 4 + 3] = 0.0f;
  bad = find_non_finite_weight(tensors);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->tensor, "b");
  EXPECT_EQ(bad->row, 1);
  EXPECT_EQ(bad->col, 2);
  EXPECT_TRUE(std::isinf(bad->value));
}

TEST(NonFinite, SeesF16ValuesAndBlockScales) {
  std::vector<uint16_t> h(2 * 8, f32_to_fp16(1.0f));
  h[8 + 5] = 0x7c00;  // +Inf
  std::map<std::string, TensorInfo> f16 = {{"h", view("h", DType::F16, {2, 8}, h.data())}};
  auto bad = find_non_finite_weight(f16);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->row, 1);
  EXPECT_EQ(bad->col, 5);

  std::vector<float> w(2 * 64, 0.25f);
  std::vector<uint8_t> q(dtype_bytes(DType::Q4_0, 2 * 64));
  quantize_row_q4_0(q.data(), w.data(), 2 * 64, nullptr);
  std::map<std::string, TensorInfo> q40 = {{"q", view("q", DType::Q4_0, {2, 64}, q.data())}};
  EXPECT_FALSE(find_non_finite_weight(q40).has_value());
  const uint16_t nan = 0x7e00;
  std::memcpy(q.data() + 18 * 3, &nan, 2);  // block 3 = row 1, columns 32..63
  bad = find_non_finite_weight(q40);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->row, 1);
  EXPECT_EQ(bad->col, 32);
}

TEST(NonFinite, ExplanationNamesTheFileAndTheTensor) {
  std::vector<float> a(4, 1.0f);
  ModelWeights w;
  w.source = "model.gguf";
  w.stored = {{"blk.0.ffn_up.weight", view("blk.0.ffn_up.weight", DType::F32, {1, 4}, a.data())}};
  EXPECT_EQ(explain_non_finite(w, "logit 3 is nan"),
            "model.gguf: logit 3 is nan although every weight is finite (the activations overflowed float32)");
  a[2] = std::nanf("");
  EXPECT_EQ(explain_non_finite(w, "logit 3 is nan"),
            "model.gguf: logit 3 is nan: tensor blk.0.ffn_up.weight row 0 column 2 holds nan (a corrupt or badly "
            "converted file)");
}

}  // namespace
}  // namespace lmpack
