// Gemma 3 (text): Gemma 2's block (GeGLU, (1 + w) norms, post-norms, scaled
// embedding) without soft-caps, plus per-head q/k norms (also 1 + w), five
// windowed layers in six, and two RoPEs: the windowed layers rotate with
// rope_local_base_freq unscaled, the global ones with rope_theta and the
// linear scaling. A random Gemma 3 written as a Hugging Face folder runs the
// same fast and reference, from lmpack's GGUF (llama.cpp's gemma3 keys:
// rope.freq_base_swa, rope.scaling.*) and from the folder written back; the
// two RoPEs and the q/k norms each change the logits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include "io/gguf.h"
#include "model/checkpoint.h"
#include "model/hf_config.h"
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
  return testing::logits_of(c, reference, 2);
}

ModelConfig gemma3_config() {
  ModelConfig c = testing::small_arch_config("gemma3", 32, 6);  // layers 0-4 windowed, 5 global
  set_gemma_block(c);  // GeGLU, post-norms, embedding · sqrt(64) = 8
  c.attn_qk_norm = true;
  c.attention_scale = 1.0f / std::sqrt(32.0f);
  c.sliding_window = 8;
  c.sliding_window_pattern = 6;
  c.rope_theta = 1000000.0f;
  c.rope_theta_local = 10000.0f;
  c.rope_scaling.type = RopeScaling::Type::kLinear;
  c.rope_scaling.factor = 4.0f;
  return c;
}

const std::string& gemma3_folder() {
  static const std::string dir = testing::random_model_folder("random_gemma3", gemma3_config(), 6);
  return dir;
}

TEST(Gemma3, FolderLoadsAndRunsFastAsReferenceWithTwoRopes) {
  const Checkpoint c = load_checkpoint(gemma3_folder());
  EXPECT_EQ(c.config.architecture, "gemma3");
  EXPECT_TRUE(c.config.attn_qk_norm);
  EXPECT_EQ(c.config.rope_theta_local, 10000.0f);
  EXPECT_EQ(c.config.rope_scaling.type, RopeScaling::Type::kLinear);
  EXPECT_EQ(c.config.attention_window(4), 8);
  EXPECT_EQ(c.config.attention_window(5), 0);
  // The q/k norms carry the (1 + w) of every Gemma norm.
  const std::vector<float> qn = testing::f32_values(c.tensor("blk.0.attn_q_norm.weight"));
  EXPECT_GT(*std::min_element(qn.begin(), qn.end()), 0.4f);

  const std::vector<float> fast = logits_of(c), ref = logits_of(c, true);
  EXPECT_GT(max_abs(ref), 2.0f);
  EXPECT_LT(max_abs_diff(fast, ref), 1e-4f * max_abs(ref));

  auto changed = [&](const std::function<void(Checkpoint&)>& edit) {
    Checkpoint other = c;
    edit(other);
    return max_abs_diff(logits_of(other), fast);
  };
  const float tiny = 1e-3f * max_abs(ref);
  EXPECT_GT(changed([](Checkpoint& o) { o.config.rope_theta_local = 0.0f; }), tiny) << "local RoPE base";
  EXPECT_GT(changed([](Checkpoint& o) { o.config.rope_scaling.type = RopeScaling::Type::kNone; }), tiny)
      << "global linear scaling";
  EXPECT_GT(changed([](Checkpoint& o) {
              o.set_f32("blk.5.attn_k_norm.weight", {32}, std::vector<float>(32, 1.0f));
            }),
            tiny)
      << "k norm";
  // The plumbing picks the right table per layer: one base for all (local ==
  // global, unscaled) equals having no local RoPE at all.
  Checkpoint same = c, none = c;
  same.config.rope_theta = same.config.rope_theta_local = 10000.0f;
  same.config.rope_scaling.type = none.config.rope_scaling.type = RopeScaling::Type::kNone;
  none.config.rope_theta = 10000.0f;
  none.config.rope_theta_local = 0.0f;
  EXPECT_EQ(max_abs_diff(logits_of(same), logits_of(none)), 0.0f);
}

TEST(Gemma3, GgufKeepsItsKeysAndLogitsAndHfWritesTheFolderBack) {
  LMPACK_REQUIRE_SHARED();  // the GGUF needs a vocabulary: tok512
  const Checkpoint hf = testing::load_with_tok512(gemma3_folder());
  const std::string path = testing::temp_dir() + "/random_gemma3.gguf";
  save_gguf(hf, path, DType::F32);
  const GgufFile g = read_gguf(path);
  EXPECT_EQ(g.get_string("general.architecture"), "gemma3");
  EXPECT_EQ(g.get_float("gemma3.rope.freq_base"), 1000000.0);
  EXPECT_EQ(g.get_float("gemma3.rope.freq_base_swa"), 10000.0);
  EXPECT_EQ(g.get_string("gemma3.rope.scaling.type"), "linear");
  EXPECT_EQ(g.get_float("gemma3.rope.scaling.factor"), 4.0);
  EXPECT_EQ(g.get_int("gemma3.attention.sliding_window"), 8);
  EXPECT_EQ(g.get_int("gemma3.attention.sliding_window_pattern"), 6);
  EXPECT_EQ(g.find("gemma3.attn_logit_softcapping"), nullptr);
  const Checkpoint back = load_checkpoint(path);
  EXPECT_EQ(back.config.architecture, "gemma3");
  EXPECT_EQ(back.config.rope_theta_local, 10000.0f);
  EXPECT_EQ(max_abs_diff(logits_of(back), logits_of(hf)), 0.0f);

  const std::string out = testing::temp_dir() + "/random_gemma3_back";
  save_hf(hf, out, DType::F32);
  testing::expect_same_safetensors(gemma3_folder() + "/model.safetensors", out + "/model.safetensors");
  const ModelConfig again = read_hf_config(out + "/config.json");
  EXPECT_EQ(again.rope_theta_local, 10000.0f);
  EXPECT_EQ(again.sliding_window_pattern, 6);
  EXPECT_EQ(again.rope_scaling.factor, 4.0f);
  EXPECT_EQ(max_abs_diff(logits_of(load_checkpoint(out)), logits_of(hf)), 0.0f);
}

// gemma-3-1b-it's config.json (the keys lmpack reads, as published).
TEST(Gemma3, ReadsThePublishedConfig) {
  const char* text = R"({"architectures": ["Gemma3ForCausalLM"], "attention_bias": false,
    "attn_logit_softcapping": null, "final_logit_softcapping": null, "head_dim": 256,
    "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 1152, "intermediate_size": 6912,
    "max_position_embeddings": 32768, "model_type": "gemma3_text", "num_attention_heads": 4,
    "num_hidden_layers": 26, "num_key_value_heads": 1, "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06,
    "rope_local_base_freq": 10000, "rope_scaling": null, "rope_theta": 1000000, "sliding_window": 512,
    "sliding_window_pattern": 6, "vocab_size": 262144})";
  const ModelConfig c = parse_hf_config(text, "cfg.json");
  EXPECT_EQ(c.architecture, "gemma3");
  EXPECT_TRUE(c.attn_qk_norm);
  EXPECT_TRUE(c.post_norms);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.attn_softcap, 0.0f);
  EXPECT_EQ(c.final_softcap, 0.0f);
  EXPECT_EQ(c.rope_theta, 1000000.0f);
  EXPECT_EQ(c.rope_theta_local, 10000.0f);
  EXPECT_EQ(c.attention_window(0), 512);
  EXPECT_EQ(c.attention_window(5), 0);
  EXPECT_EQ(c.attention_window(6), 512);
  EXPECT_EQ(hf_norm_offset(c.architecture), 1.0f);
  EXPECT_EQ(c.untrainable_reason().empty(), false);
}

}  // namespace
}  // namespace lmpack
