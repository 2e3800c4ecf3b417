// Pruning through the sequential pipeline on stories260K (issue 5): exact
// per-row sparsity and N:M counts in the written weights, SparseGPT and Wanda
// each beating magnitude in perplexity at 50% and 2:4 (calibrating on
// TinyStories stories 200-999, evaluating on the first 20 stories), and
// SparseGPT quantizing jointly onto Q4_0 without losing a zero.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "core/parallel.h"
#include "eval/calibration.h"
#include "eval/perplexity.h"
#include "formats/decode.h"
#include "formats/format_sizes.h"
#include "methods/sparsity.h"
#include "pipeline/compressed_checkpoint.h"
#include "pipeline/sequential_calibration.h"
#include "pipeline_test_models.h"
#include "runtime/forward.h"
#include "runtime/weights.h"
#include "test_paths.h"
#include "tokenizer/tokenizer.h"

namespace lmpack {
namespace {

class PrunePipeline : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::shared_dir().empty()) GTEST_SKIP() << "../shared (real models and text) is absent; this test needs it";
    set_num_threads(2);
    ckpt_ = testing::load_stories260k();
    tok_ = make_tokenizer(*ckpt_.vocab, ckpt_.path);
    const auto docs = split_documents(testing::tinystories_valid_text(), "<|endoftext|>", 0);
    ASSERT_GE(docs.size(), 1000u);
    eval_ = build_documents(std::vector<std::string>(docs.begin(), docs.begin() + 20), *tok_, 512);
    std::string calib;
    for (size_t d = 200; d < 1000; ++d) calib += docs[d] + "\n";
    CalibrationOptions co;
    co.files = {"stories 200-999"};
    co.samples = 32;
    co.ctx = 256;
    windows_ = cut_calibration_windows(tok_->encode(calib, false), ckpt_.vocab->bos_id, co);
  }

  // The pruned model, decoded, with the linears in `type` (F16 where a row
  // fits no block of it, as the GGUF mixes fall back).
  Checkpoint prune(PruneMethod m, const SparsityPattern& pattern, DType type = DType::F32) {
    CalibrationRecipe r;
    r.prune = PruneSpec{m, pattern};
    r.show_progress = false;
    for (int64_t l = 0; l < ckpt_.config.n_layers; ++l)
      for (const std::string& n : block_linear_names(l))
        r.gguf_types[n] = ckpt_.tensor(n).cols() % dtype_block_elements(type) == 0 ? type : DType::F16;
    SequentialCalibration p(ckpt_, windows_, r);
    return decode_compressed(ckpt_, p, r.gguf_types, {});
  }

  double perplexity(const Checkpoint& c) {
    auto f = make_fast_forward(build_weights(c), 512);
    return evaluate_perplexity(*f, eval_).perplexity;
  }

  static std::vector<float> weights(const Checkpoint& c, const std::string& name) {
    const TensorInfo& t = c.tensor(name);
    std::vector<float> v(static_cast<size_t>(t.n_elements()));
    decode_to_f32(v.data(), t.data, t.dtype, t.n_elements());
    return v;
  }

  Checkpoint ckpt_;
  std::unique_ptr<Tokenizer> tok_;
  std::vector<EvalSequence> eval_;
  std::vector<std::vector<int32_t>> windows_;
};

TEST_F(PrunePipeline, ExactSparsityAndNmCountsInEveryLinear) {
  for (PruneMethod m : {PruneMethod::kMagnitude, PruneMethod::kWanda, PruneMethod::kSparseGpt}) {
    SCOPED_TRACE(static_cast<int>(m));
    const Checkpoint half = prune(m, {0.5, 0, 0});
    const Checkpoint nm = prune(m, {0.0, 2, 4});
    for (int64_t l = 0; l < ckpt_.config.n_layers; ++l)
      for (const std::string& n : block_linear_names(l)) {
        const TensorInfo& t = ckpt_.tensor(n);
        const std::vector<float> w = weights(half, n);
        for (int64_t r = 0; r < t.rows(); ++r) {
          int64_t zeros = 0;
          for (int64_t c = 0; c < t.cols(); ++c) zeros += w[r * t.cols() + c] == 0.0f;
          ASSERT_EQ(zeros, std::llround(0.5 * static_cast<double>(t.cols()))) << n << " row " << r;
        }
        const std::vector<float> v = weights(nm, n);
        EXPECT_EQ(n_m_violations(v.data(), t.rows(), t.cols(), 2, 4), 0) << n;
        EXPECT_NEAR(achieved_sparsity(v.data(), t.rows(), t.cols()), 0.5, 0.01) << n;
      }
  }
}

TEST_F(PrunePipeline, SparseGptAndWandaBeatMagnitudeAt50PercentAnd2of4) {
  const double base = perplexity(ckpt_);
  for (const SparsityPattern& pattern : {SparsityPattern{0.5, 0, 0}, SparsityPattern{0.0, 2, 4}}) {
    const double mag = perplexity(prune(PruneMethod::kMagnitude, pattern));
    const double wanda = perplexity(prune(PruneMethod::kWanda, pattern));
    const double sgpt = perplexity(prune(PruneMethod::kSparseGpt, pattern));
    std::printf("stories260K %s (F32 %.4f): magnitude %.4f, Wanda %.4f, SparseGPT %.4f\n",
                pattern.is_n_m() ? "2:4" : "50%", base, mag, wanda, sgpt);
    EXPECT_LT(wanda, mag);
    EXPECT_LT(sgpt, mag);
  }
}

TEST_F(PrunePipeline, SparseGptJointQ4_0KeepsEveryZero) {
  const Checkpoint q = prune(PruneMethod::kSparseGpt, {0.5, 0, 0}, DType::Q4_0);
  // Q4_0 holds 0 exactly (code 8); the 172-wide ffn_down falls back to F16.
  for (int64_t l = 0; l < ckpt_.config.n_layers; ++l)
    for (const std::string& n : block_linear_names(l)) {
      const TensorInfo& t = ckpt_.tensor(n);
      if (t.cols() % 32 != 0) continue;
      const std::vector<float> w = weights(q, n);
      EXPECT_GE(achieved_sparsity(w.data(), t.rows(), t.cols()), 0.5) << n;
    }
}

}  // namespace
}  // namespace lmpack
