// Gemma 2 (issue 12): GeGLU with tanh GELU, token embeddings scaled by
// sqrt(dim), RMSNorm weights stored by Hugging Face as w for a scale of
// 1 + w, norms after attention and after the FFN, attention scale from
// query_pre_attn_scalar, soft-capped scores and logits, a sliding window on
// every other layer. A random Gemma 2 written as a Hugging Face folder runs
// the same fast and reference, from the GGUF lmpack writes (llama.cpp's
// gemma2 names, its norms as 1 + w) and from the folder written back; every
// one of those features changes the logits, so none can be dropped unseen.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "core/error.h"
#include "io/gguf.h"
#include "io/safetensors.h"
#include "model/checkpoint.h"
#include "model/random_model.h"
#include "model/save_gguf.h"
#include "model/save_hf.h"
#include "runtime/forward.h"
#include "runtime/weights.h"
#include "arch_test_util.h"
#include "test_paths.h"

namespace lmpack {
namespace {

using testing::max_abs;
using testing::max_abs_diff;

std::vector<float> logits_of(const Checkpoint& c, bool reference = false) {
  return testing::logits_of(c, reference, 8);
}

ModelConfig gemma2_config() {
  ModelConfig c = testing::small_arch_config("gemma2", 32);  // q_dim 128 != dim, as in Gemma 2 2B
  set_gemma_block(c);  // GeGLU, post-norms, embedding · sqrt(64) = 8
  c.attention_scale = 1.0f / std::sqrt(32.0f);
  c.attn_softcap = 50.0f;
  c.final_softcap = 30.0f;
  c.sliding_window = 8;
  c.sliding_window_pattern = 2;
  return c;
}

const std::string& gemma2_folder() {
  static const std::string dir = testing::random_model_folder("random_gemma2", gemma2_config(), 4);
  return dir;
}

TEST(Gemma2, FolderLoadsAndRunsFastAsReferenceAndEveryFeatureActs) {
  const Checkpoint c = load_checkpoint(gemma2_folder());
  EXPECT_EQ(c.config.architecture, "gemma2");
  ASSERT_NE(c.find("blk.1.post_attention_norm.weight"), nullptr);
  ASSERT_NE(c.find("blk.1.post_ffw_norm.weight"), nullptr);
  EXPECT_EQ(c.find("output.weight"), nullptr);  // tied
  // The loader added Hugging Face's one: the scales sit around 1, not 0.
  const std::vector<float> scale = testing::f32_values(c.tensor("blk.0.ffn_norm.weight"));
  EXPECT_GT(*std::min_element(scale.begin(), scale.end()), 0.4f);
  const SafetensorsFile st = read_safetensors(gemma2_folder() + "/model.safetensors");
  const std::vector<float> stored = testing::f32_values(*st.find("model.layers.0.pre_feedforward_layernorm.weight"));
  for (size_t i = 0; i < stored.size(); ++i) ASSERT_EQ(scale[i], stored[i] + 1.0f) << i;

  const std::vector<float> fast = logits_of(c), ref = logits_of(c, true);
  EXPECT_GT(max_abs(ref), 2.0f);
  EXPECT_LT(max_abs(ref), 30.0f);  // soft-capped at 30
  EXPECT_LT(max_abs_diff(fast, ref), 1e-4f * max_abs(ref));

  auto changed = [&](const std::function<void(Checkpoint&)>& edit) {
    Checkpoint other = c;
    edit(other);
    return max_abs_diff(logits_of(other), fast);
  };
  const float tiny = 1e-3f * max_abs(ref);
  EXPECT_GT(changed([](Checkpoint& o) { o.config.ffn_activation = FfnActivation::kSilu; }), tiny) << "GELU";
  EXPECT_GT(changed([](Checkpoint& o) { o.config.embedding_scale = 0.0f; }), tiny) << "embedding scale";
  EXPECT_GT(changed([](Checkpoint& o) { o.config.attention_scale = 0.1f; }), tiny) << "attention scale";
  EXPECT_GT(changed([](Checkpoint& o) { o.config.attn_softcap = 0.0f; }), tiny) << "attention soft-cap";
  EXPECT_GT(changed([](Checkpoint& o) { o.config.final_softcap = 0.0f; }), tiny) << "final soft-cap";
  EXPECT_GT(changed([](Checkpoint& o) { o.config.sliding_window = 0; }), tiny) << "sliding window";
  EXPECT_GT(changed([](Checkpoint& o) {
              o.set_f32("blk.0.post_ffw_norm.weight", {64}, std::vector<float>(64, 1.0f));
            }),
            tiny)
      << "post-FFN norm";
}

TEST(Gemma2, GgufHasLlamaCppsNamesNormsAndRowOrderAndTheSameLogits) {
  LMPACK_REQUIRE_SHARED();  // the GGUF needs a vocabulary: tok512
  const Checkpoint hf = testing::load_with_tok512(gemma2_folder());
  const std::string path = testing::temp_dir() + "/random_gemma2.gguf";
  save_gguf(hf, path, DType::F32);
  const GgufFile g = read_gguf(path);
  EXPECT_EQ(g.get_string("general.architecture"), "gemma2");
  EXPECT_EQ(g.get_int("gemma2.attention.sliding_window"), 8);
  EXPECT_EQ(g.get_float("gemma2.attn_logit_softcapping"), 50.0);
  EXPECT_EQ(g.get_float("gemma2.final_logit_softcapping"), 30.0);
  const SafetensorsFile st = read_safetensors(gemma2_folder() + "/model.safetensors");
  auto gguf_tensor = [&](const std::string& name) -> const TensorInfo& {
    for (const TensorInfo& t : g.tensors)
      if (t.name == name) return t;
    throw Error(path, "no tensor " + name);
  };
  // Norms as llama.cpp's converter writes them (1 + w), q/k rows unpermuted.
  const std::vector<float> post = testing::f32_values(gguf_tensor("blk.1.post_attention_norm.weight"));
  const std::vector<float> stored = testing::f32_values(*st.find("model.layers.1.post_attention_layernorm.weight"));
  for (size_t i = 0; i < post.size(); ++i) ASSERT_EQ(post[i], stored[i] + 1.0f) << i;
  EXPECT_EQ(testing::f32_values(gguf_tensor("blk.0.attn_q.weight")),
            testing::f32_values(*st.find("model.layers.0.self_attn.q_proj.weight")));

  const Checkpoint back = load_checkpoint(path);
  EXPECT_EQ(back.config.architecture, "gemma2");
  EXPECT_EQ(back.config.sliding_window, 8);
  EXPECT_EQ(back.config.attention_score_scale(), hf.config.attention_score_scale());
  EXPECT_EQ(max_abs_diff(logits_of(back), logits_of(hf)), 0.0f);

  // A scale llama.cpp would not derive from the shape cannot go into a GGUF.
  Checkpoint odd = hf;
  odd.config.attention_scale = 0.1f;
  EXPECT_THROW(save_gguf(odd, testing::temp_dir() + "/odd_gemma2.gguf", DType::F32), Error);
}

TEST(Gemma2, SaveHfWritesTheSameFolderBack) {
  const Checkpoint hf = load_checkpoint(gemma2_folder());
  const std::string out = testing::temp_dir() + "/random_gemma2_back";
  save_hf(hf, out, DType::F32);
  testing::expect_same_safetensors(gemma2_folder() + "/model.safetensors", out + "/model.safetensors");
  EXPECT_EQ(max_abs_diff(logits_of(load_checkpoint(out)), logits_of(hf)), 0.0f);
}

}  // namespace
}  // namespace lmpack
