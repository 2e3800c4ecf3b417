// The fast forward pass over quantized weights (kept in their stored format)
// against the reference forward pass over the same weights decoded to fp32,
// on the real trained ts-llama-4.9M (rows of 256 and 768, so every k-quant
// block applies), quantized in memory with each format's quantize_row.
//
//   prompt path   128 tokens at once: decoded tiles + sgemm for block types
//                 (float rounding only, so the logits must agree tightly),
//                 dots against fp32 activations for F16/BF16 (likewise);
//   generation    one token at a time: dots against activations quantized to
//                 the dot type; within the activation-quantization error.
// And memory: ModelWeights holds no decoded copies of a quantized model.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "core/error.h"
#include "formats/format.h"
#include "formats/format_sizes.h"
#include "model/checkpoint.h"
#include "pipeline/gguf_quantize.h"
#include "runtime/forward.h"
#include "runtime/weights.h"
#include "test_paths.h"

namespace lmpack {
namespace {

Checkpoint load_ts_llama() {
  LoadOptions o;
  o.tokenizer_path = testing::shared_path("models/stories260K/tok512.bin");
  return load_checkpoint(testing::shared_path("models/ts-llama-4.9M/ts-llama-4.9M.bin"), o);
}

// Every matrix (2-D .weight, norms excluded) whose rows fit `type`'s blocks
// is quantized row by row into a buffer the checkpoint keeps alive.
// Returns the number of tensors quantized.
int quantize_in_memory(Checkpoint& c, DType type) {
  const FormatOps& ops = format_ops(type);
  int count = 0;
  for (auto& [name, t] : c.tensors) {
    if (t.shape.size() != 2 || name.find("norm") != std::string::npos) continue;
    if (!dtype_row_fits(type, t.cols())) continue;
    LMPACK_CHECK(t.dtype == DType::F32);
    const int64_t rows = t.rows(), cols = t.cols();
    const size_t row_bytes = dtype_bytes(type, cols);
    auto buf = std::make_shared<std::vector<uint8_t>>(row_bytes * rows);
    const auto* src = reinterpret_cast<const float*>(t.data);
    for (int64_t r = 0; r < rows; ++r) ops.quantize_row(buf->data() + r * row_bytes, src + r * cols, cols, nullptr);
    t.dtype = type;
    t.data = buf->data();
    t.nbytes = buf->size();
    c.keep_alive.push_back(buf);
    ++count;
  }
  return count;
}

std::vector<int32_t> some_tokens(int64_t n, int64_t vocab) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  t[0] = 1;  // BOS
  for (int64_t i = 1; i < n; ++i) t[i] = static_cast<int32_t>((i * 37 + 11) % vocab);
  return t;
}

float max_abs(const std::vector<float>& v) {
  float m = 0.0f;
  for (float x : v) m = std::max(m, std::fabs(x));
  return m;
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

// Fraction of rows of [rows, vocab] logits with the same arg-max.
double top1_agreement(const std::vector<float>& a, const std::vector<float>& b, int64_t vocab) {
  const int64_t rows = static_cast<int64_t>(a.size()) / vocab;
  int64_t same = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const auto ra = a.begin() + r * vocab, rb = b.begin() + r * vocab;
    same += std::max_element(ra, ra + vocab) - ra == std::max_element(rb, rb + vocab) - rb;
  }
  return static_cast<double>(same) / static_cast<double>(rows);
}

class QuantForwardTest : public ::testing::TestWithParam<DType> {};

TEST_P(QuantForwardTest, FastMatchesReferenceOnDecodedWeights) {
  LMPACK_REQUIRE_SHARED();
  const DType type = GetParam();
  const FormatOps* ops = find_format_ops(type);
  if (ops == nullptr || ops->quantize_row == nullptr || ops->dot == nullptr)
    GTEST_SKIP() << dtype_name(type) << " has no format ops in this build yet";
  Checkpoint c = load_ts_llama();
  ASSERT_EQ(quantize_in_memory(c, type), 1 + 7 * 6);  // token_embd (tied) + 7 matrices x 6 layers

  auto w = build_weights(c);
  // Every matrix is used in place: nothing decoded, views into the buffers.
  EXPECT_EQ(w->owned_bytes(), 0u);
  EXPECT_EQ(w->token_embd.type, type);
  EXPECT_EQ(w->token_embd.data, c.tensor("token_embd.weight").data);
  for (const LayerWeights& lw : w->layers)
    for (const WeightMatrix* m : {&lw.wq, &lw.wk, &lw.wv, &lw.wo, &lw.w_gate, &lw.w_up, &lw.w_down})
      EXPECT_EQ(m->type, type);

  const int64_t vocab = c.config.vocab_size, n = 128;  // >= qmatmul_gemm_min_rows for block types
  const std::vector<int32_t> tokens = some_tokens(n, vocab);
  auto fast = make_fast_forward(w, n);
  std::vector<float> prompt(n * vocab);
  fast->forward(tokens.data(), n, prompt.data());
  EXPECT_EQ(w->owned_bytes(), 0u) << "the fast forward decoded weights";

  // Generation: one token at a time (dots), then a chunk of 3.
  fast->reset();
  std::vector<float> steps(n * vocab);
  for (int64_t i = 0; i < n - 3; ++i) fast->forward(tokens.data() + i, 1, steps.data() + i * vocab);
  fast->forward(tokens.data() + n - 3, 3, steps.data() + (n - 3) * vocab);

  auto ref = make_reference_forward(w, n);
  EXPECT_GT(w->owned_bytes(), 0u) << "the reference decodes its own fp32 copies";
  std::vector<float> expect(n * vocab);
  ref->forward(tokens.data(), n, expect.data());

  const float scale = max_abs(expect);
  ASSERT_GT(scale, 1.0f);
  // Prompt: decoded tiles + fp32 sgemm, the same arithmetic as the reference.
  EXPECT_LT(max_abs_diff(prompt, expect), 2e-3f * scale) << dtype_name(type);
  // Generation: 8-bit activations (Q8_0/Q8_1/Q8_K) through 6 layers.
  const float step_tol = ops->dot_type == DType::F32 ? 2e-3f : 6e-2f;
  EXPECT_LT(max_abs_diff(steps, expect), step_tol * scale) << dtype_name(type);
  EXPECT_GE(top1_agreement(steps, expect, vocab), 0.9) << dtype_name(type);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantForwardTest,
                         ::testing::Values(DType::F16, DType::BF16, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                                           DType::Q5_1, DType::Q8_0, DType::IQ4_NL, DType::Q2_K, DType::Q3_K,
                                           DType::Q4_K, DType::Q5_K, DType::Q6_K),
                         [](const ::testing::TestParamInfo<DType>& info) {
                           return std::string(dtype_name(info.param));
                         });

// A type the fast path cannot use in place (here: F32 copies of a model
// whose tensors are F32 anyway) costs nothing; an unaligned or dot-less
// tensor is decoded once and counted.
TEST(QuantForward, F32ModelIsZeroCopy) {
  LMPACK_REQUIRE_SHARED();
  Checkpoint c = load_ts_llama();
  auto w = build_weights(c);
  EXPECT_EQ(w->owned_bytes(), 0u);
  EXPECT_EQ(w->token_embd.type, DType::F32);
  EXPECT_EQ(w->output, w->token_embd);  // tied
}

// Token embeddings are decoded one looked-up row at a time.
TEST(QuantForward, EmbedDecodesOneRow) {
  LMPACK_REQUIRE_SHARED();
  const FormatOps* ops = find_format_ops(DType::Q8_0);
  if (ops == nullptr || ops->quantize_row == nullptr) GTEST_SKIP() << "q8_0 has no format ops in this build yet";
  Checkpoint c = load_ts_llama();
  quantize_in_memory(c, DType::Q8_0);
  auto w = build_weights(c);
  const int64_t dim = c.config.dim;
  std::vector<float> row(dim), expect(dim);
  w->embed(row.data(), 77);
  ops->dequantize_row(expect.data(), c.tensor("token_embd.weight").data + 77 * dtype_bytes(DType::Q8_0, dim), dim);
  EXPECT_EQ(row, expect);
}


// Resident memory now (not the peak): the second field of /proc/self/statm.
int64_t current_rss_bytes() {
  std::ifstream f("/proc/self/statm");
  int64_t pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// A Q4_K GGUF written by the quantizer, loaded and run: the weights are the
// file's bytes in the mapping, ModelWeights decodes nothing, and resident
// memory grows by about the file plus activations and KV cache, not by the
// 19 MB an fp32 copy of the model would take.
TEST(QuantForward, Q4KGgufRunsInPlace) {
  LMPACK_REQUIRE_SHARED();
  const std::string path = testing::temp_dir() + "/ts-llama-q4_k.gguf";
  {
    QuantizeOptions o;
    o.type_name = "q4_K";
    o.show_progress = false;
    quantize_to_gguf(load_ts_llama(), path, o);
  }
  const int64_t file_bytes = static_cast<int64_t>(std::filesystem::file_size(path));
  const int64_t before = current_rss_bytes();
  auto w = build_weights(load_checkpoint(path));
  auto fast = make_fast_forward(w, 64);
  const int64_t vocab = w->config.vocab_size;
  const std::vector<int32_t> tokens = some_tokens(64, vocab);
  std::vector<float> logits(64 * vocab);
  fast->forward(tokens.data(), 32, logits.data());
  for (int64_t i = 32; i < 64; ++i) fast->forward(tokens.data() + i, 1, logits.data() + i * vocab);
  const int64_t growth = current_rss_bytes() - before;
  RecordProperty("rss_growth_bytes", std::to_string(growth));
  RecordProperty("file_bytes", std::to_string(file_bytes));

  EXPECT_EQ(w->owned_bytes(), 0u);
  EXPECT_EQ(w->layers[0].w_gate.type, DType::Q4_K);
  EXPECT_NE(w->token_embd.type, DType::F32);
  const int64_t fp32_bytes = w->config.vocab_size * w->config.dim * 4 +
                             w->config.n_layers * (4 * w->config.dim * w->config.dim +
                                                   3 * w->config.dim * w->config.hidden_dim) * 4;
  ASSERT_GT(fp32_bytes, 15 << 20);
  // file + logits (256 KB) + KV cache (0.8 MB) + activations and thread
  // stacks: a few MB, well under the fp32 copy.
  EXPECT_LT(growth, file_bytes + (6 << 20)) << "file " << file_bytes << ", fp32 copy " << fp32_bytes;
  // The logits are the model's: the greedy next token after the prompt
  // agrees with the reference pass on the same (decoded) weights.
  auto ref = make_reference_forward(w, 64);
  std::vector<float> expect(64 * vocab);
  ref->forward(tokens.data(), 64, expect.data());
  EXPECT_GE(top1_agreement(logits, expect, vocab), 0.9);
}

}  // namespace
}  // namespace lmpack
