// Phi-3 / Phi-4-mini: q, k, v stored as one qkv_proj and gate, up as one
// gate_up_proj (split into lmpack's canonical tensors by the loaders and
// stacked back by the writers), partial rotary (Phi-4-mini turns 3/4 of each
// head) and LongRoPE (per-frequency divisors, short ones up to the original
// context and long ones past it, cos/sin scaled by an attention factor). A
// random Phi-4-mini-shaped model written as a Hugging Face folder runs the
// same fast and reference, through lmpack's GGUF (llama.cpp's phi3: NEOX row
// order on the turned rows, rope_factors_* tensors, gate and up stacked in
// one ffn_up) and through the folder written back; each feature changes the
// logits.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <sstream>

#include "core/error.h"
#include "io/gguf.h"
#include "model/checkpoint.h"
#include "model/hf_config.h"
#include "model/random_model.h"
#include "model/save_gguf.h"
#include "model/save_hf.h"
#include "arch_test_util.h"
#include "test_paths.h"

namespace lmpack {
namespace {

using testing::max_abs;
using testing::max_abs_diff;

std::vector<float> logits_of(const Checkpoint& c, bool reference = false) {
  return testing::logits_of(c, reference, 3);
}

// logits_of runs 40 tokens in a context of 64: past the original 32, so the
// long factors apply.
ModelConfig phi3_config() {
  ModelConfig c = testing::small_arch_config("phi3", 16);
  c.rotary_dims = 12;  // partial_rotary_factor 0.75
  RopeScaling& s = c.rope_scaling;
  s.type = RopeScaling::Type::kLongRope;
  s.original_max_position = 32;
  for (int j = 0; j < 6; ++j) {
    s.short_factors.push_back(1.0f + 0.1f * static_cast<float>(j));
    s.long_factors.push_back(2.0f + 3.0f * static_cast<float>(j));
  }
  s.attention_factor = 1.25f;
  return c;
}

const std::string& phi3_folder() {
  static const std::string dir = testing::random_model_folder("random_phi3", phi3_config(), 7);
  return dir;
}

const TensorInfo* gguf_tensor(const GgufFile& g, const std::string& name) {
  for (const TensorInfo& t : g.tensors)
    if (t.name == name) return &t;
  return nullptr;
}

std::vector<float> rows_of(const TensorInfo& t, int64_t first, int64_t n) {
  const std::vector<float> all = testing::f32_values(t);
  const int64_t cols = t.shape[1];
  return std::vector<float>(all.begin() + first * cols, all.begin() + (first + n) * cols);
}

TEST(Phi3, FusedProjectionsSplitAndTheModelRunsFastAsReference) {
  const Checkpoint c = load_checkpoint(phi3_folder());
  EXPECT_EQ(c.config.architecture, "phi3");
  EXPECT_EQ(c.config.rope_dims(), 12);
  ASSERT_EQ(c.config.rope_scaling.type, RopeScaling::Type::kLongRope);
  EXPECT_EQ(c.config.rope_scaling.long_factors[5], 17.0f);
  EXPECT_EQ(c.config.rope_scaling.attention_factor, 1.25f);
  EXPECT_EQ(c.find("blk.0.attn_qkv.weight"), nullptr);
  EXPECT_EQ(c.find("blk.0.ffn_gate_up.weight"), nullptr);
  EXPECT_EQ(c.tensor("blk.0.attn_q.weight").shape, (std::vector<int64_t>{64, 64}));
  EXPECT_EQ(c.tensor("blk.0.attn_k.weight").shape, (std::vector<int64_t>{32, 64}));
  EXPECT_EQ(c.tensor("blk.1.ffn_up.weight").shape, (std::vector<int64_t>{96, 64}));
  // v, gate and up are the fused matrices' rows as stored (q and k are
  // turned to adjacent pairs on their rotated rows).
  const SafetensorsFile st = read_safetensors(phi3_folder() + "/model.safetensors");
  const TensorInfo* qkv = st.find("model.layers.1.self_attn.qkv_proj.weight");
  const TensorInfo* gate_up = st.find("model.layers.1.mlp.gate_up_proj.weight");
  ASSERT_NE(qkv, nullptr);
  ASSERT_NE(gate_up, nullptr);
  EXPECT_EQ(testing::f32_values(c.tensor("blk.1.attn_v.weight")), rows_of(*qkv, 96, 32));
  EXPECT_EQ(testing::f32_values(c.tensor("blk.1.ffn_gate.weight")), rows_of(*gate_up, 0, 96));
  EXPECT_EQ(testing::f32_values(c.tensor("blk.1.ffn_up.weight")), rows_of(*gate_up, 96, 96));
  // A pass-through row of a q head (row 12 of head 0: past the 12 turned) is unmoved.
  EXPECT_EQ(rows_of(c.tensor("blk.1.attn_q.weight"), 12, 1), rows_of(*qkv, 12, 1));

  const std::vector<float> fast = logits_of(c), ref = logits_of(c, true);
  EXPECT_GT(max_abs(ref), 2.0f);
  EXPECT_LT(max_abs_diff(fast, ref), 1e-4f * max_abs(ref));

  auto changed = [&](const std::function<void(Checkpoint&)>& edit) {
    Checkpoint other = c;
    edit(other);
    return max_abs_diff(logits_of(other), fast);
  };
  const float tiny = 1e-3f * max_abs(ref);
  EXPECT_GT(changed([](Checkpoint& o) {
              o.config.rotary_dims = 0;  // whole heads: two more frequencies, divided by 1
              o.config.rope_scaling.short_factors.resize(8, 1.0f);
              o.config.rope_scaling.long_factors.resize(8, 1.0f);
            }),
            tiny)
      << "partial rotary";
  EXPECT_GT(changed([](Checkpoint& o) { o.config.rope_scaling.attention_factor = 1.0f; }), tiny) << "attention factor";
  EXPECT_GT(changed([](Checkpoint& o) { o.config.rope_scaling.original_max_position = 64; }), tiny)
      << "long factors past the original context (64: short ones)";
  EXPECT_GT(changed([](Checkpoint& o) { o.config.rope_scaling.long_factors[2] = 1.0f; }), tiny) << "a long factor";
  // Within the original context the short factors rule and the long ones do not matter.
  Checkpoint short_a = c, short_b = c;
  short_a.config.rope_scaling.original_max_position = short_b.config.rope_scaling.original_max_position = 64;
  short_b.config.rope_scaling.long_factors.assign(6, 1.0f);
  EXPECT_EQ(max_abs_diff(logits_of(short_a), logits_of(short_b)), 0.0f);
}

TEST(Phi3, GgufIsLlamaCppsPhi3AndHfWritesTheFolderBack) {
  LMPACK_REQUIRE_SHARED();  // the GGUF needs a vocabulary: tok512
  const Checkpoint hf = testing::load_with_tok512(phi3_folder());
  const std::string path = testing::temp_dir() + "/random_phi3.gguf";
  save_gguf(hf, path, DType::F32);
  const GgufFile g = read_gguf(path);
  EXPECT_EQ(g.get_string("general.architecture"), "phi3");
  EXPECT_EQ(g.get_int("phi3.rope.dimension_count"), 12);
  EXPECT_EQ(g.get_float("phi3.rope.scaling.attn_factor"), 1.25);
  EXPECT_EQ(g.get_int("phi3.rope.scaling.original_context_length"), 32);
  EXPECT_EQ(g.find("phi3.rope.scaling.type"), nullptr);  // llama.cpp's converter writes none for phi3
  const TensorInfo* long_f = gguf_tensor(g, "rope_factors_long.weight");
  const TensorInfo* up = gguf_tensor(g, "blk.1.ffn_up.weight");
  const TensorInfo* q = gguf_tensor(g, "blk.1.attn_q.weight");
  ASSERT_NE(long_f, nullptr);
  ASSERT_NE(up, nullptr);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(gguf_tensor(g, "blk.1.ffn_gate.weight"), nullptr);
  EXPECT_EQ(testing::f32_values(*long_f), hf.config.rope_scaling.long_factors);
  // As llama.cpp's converter writes them: gate_up_proj's rows as they are in
  // ffn_up; q in HF's (NEOX) order, the qkv_proj's first rows.
  const SafetensorsFile st = read_safetensors(phi3_folder() + "/model.safetensors");
  EXPECT_EQ(testing::f32_values(*up), testing::f32_values(*st.find("model.layers.1.mlp.gate_up_proj.weight")));
  EXPECT_EQ(testing::f32_values(*q), rows_of(*st.find("model.layers.1.self_attn.qkv_proj.weight"), 0, 64));

  const Checkpoint back = load_checkpoint(path);
  EXPECT_EQ(back.config.architecture, "phi3");
  EXPECT_EQ(back.config.rotary_dims, 12);
  EXPECT_EQ(back.config.rope_scaling.short_factors, hf.config.rope_scaling.short_factors);
  EXPECT_EQ(max_abs_diff(logits_of(back), logits_of(hf)), 0.0f);

  const std::string out = testing::temp_dir() + "/random_phi3_back";
  save_hf(back, out, DType::F32);
  testing::expect_same_safetensors(phi3_folder() + "/model.safetensors", out + "/model.safetensors");
  const ModelConfig again = read_hf_config(out + "/config.json");
  EXPECT_EQ(again.rotary_dims, 12);
  EXPECT_EQ(again.rope_scaling.long_factors, hf.config.rope_scaling.long_factors);
  EXPECT_EQ(again.rope_scaling.attention_factor, 1.25f);
  EXPECT_EQ(again.rope_scaling.original_max_position, 32);
}

// A Phi-3 cut to fewer heads is no GGUF phi3 (whose attention is as wide as
// the model): with whole heads turned it goes out as a llama carrying the
// LongRoPE tensors (rope.scaling.type longrope) and reads back as a Phi-3;
// with partial rotary it is refused, naming why.
TEST(Phi3, FewerHeadsGoOutAsLlamaOrAreRefused) {
  LMPACK_REQUIRE_SHARED();
  ModelConfig config = phi3_config();
  config.n_heads = 2;
  config.n_kv_heads = 1;
  config.rotary_dims = 0;
  config.rope_scaling.short_factors.resize(8, 1.0f);
  config.rope_scaling.long_factors.resize(8, 3.0f);
  const std::string dir = testing::random_model_folder("random_phi3_narrow", config, 8);
  const Checkpoint narrow = testing::load_with_tok512(dir);
  const std::string path = testing::temp_dir() + "/random_phi3_narrow.gguf";
  save_gguf(narrow, path, DType::F32);
  const GgufFile g = read_gguf(path);
  EXPECT_EQ(g.get_string("general.architecture"), "llama");
  EXPECT_EQ(g.get_string("llama.rope.scaling.type"), "longrope");
  const Checkpoint back = load_checkpoint(path);
  EXPECT_EQ(back.config.architecture, "phi3");
  EXPECT_EQ(max_abs_diff(logits_of(back), logits_of(narrow)), 0.0f);

  Checkpoint partial = narrow;
  partial.config.rotary_dims = 12;
  partial.config.rope_scaling.short_factors.resize(6);
  partial.config.rope_scaling.long_factors.resize(6);
  try {
    save_gguf(partial, testing::temp_dir() + "/random_phi3_partial.gguf", DType::F32);
    ADD_FAILURE() << "a narrow Phi-3 with partial rotary was written";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("turns whole heads, not 12 of 16"), std::string::npos) << e.what();
  }
}

std::string factors(int n, double value) {
  std::ostringstream s;
  for (int i = 0; i < n; ++i) s << (i ? ", " : "") << value + 0.01 * i;
  return s.str();
}

// Phi-4-mini-instruct's config.json (the keys lmpack reads, as published;
// the 48 factors of each kind replaced by made-up ones).
TEST(Phi3, ReadsThePublishedConfigs) {
  const std::string phi4 = R"({"architectures": ["Phi3ForCausalLM"], "attention_bias": false, "bos_token_id": 199999,
    "eos_token_id": 199999, "full_attn_mod": 1, "hidden_act": "silu", "hidden_size": 3072, "intermediate_size": 8192,
    "interpolate_factor": 1, "lm_head_bias": false, "max_position_embeddings": 131072, "mlp_bias": false,
    "model_type": "phi3", "num_attention_heads": 24, "num_hidden_layers": 32, "num_key_value_heads": 8,
    "original_max_position_embeddings": 4096, "pad_token_id": 199999, "partial_rotary_factor": 0.75,
    "rms_norm_eps": 1e-05, "rope_scaling": {"long_factor": [)" + factors(48, 1.0) + R"(], "short_factor": [)" +
                           factors(48, 1.5) + R"(], "type": "longrope"}, "rope_theta": 10000.0,
    "sliding_window": 262144, "tie_word_embeddings": true, "vocab_size": 200064})";
  const ModelConfig c = parse_hf_config(phi4, "cfg.json");
  EXPECT_EQ(c.architecture, "phi3");
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.rope_dims(), 96);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.sliding_window, 262144);
  ASSERT_EQ(c.rope_scaling.type, RopeScaling::Type::kLongRope);
  EXPECT_EQ(c.rope_scaling.original_max_position, 4096);
  EXPECT_FLOAT_EQ(c.rope_scaling.short_factors[47], 1.97f);
  // transformers: sqrt(1 + ln(131072 / 4096) / ln(4096))
  EXPECT_NEAR(c.rope_scaling.attention_factor, std::sqrt(1.0 + std::log(32.0) / std::log(4096.0)), 1e-6);
  EXPECT_FALSE(c.untrainable_reason().empty());

  // Phi-3-mini-4k-instruct: whole heads, no scaling, a window of 2047.
  const ModelConfig mini = parse_hf_config(R"({"architectures": ["Phi3ForCausalLM"], "hidden_act": "silu",
    "hidden_size": 3072, "intermediate_size": 8192, "max_position_embeddings": 4096, "model_type": "phi3",
    "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 32,
    "original_max_position_embeddings": 4096, "rms_norm_eps": 1e-05, "rope_scaling": null, "rope_theta": 10000.0,
    "sliding_window": 2047, "tie_word_embeddings": false, "vocab_size": 32064})", "mini.json");
  EXPECT_EQ(mini.rope_dims(), 96);
  EXPECT_EQ(mini.rotary_dims, 0);
  EXPECT_EQ(mini.rope_scaling.type, RopeScaling::Type::kNone);
  EXPECT_EQ(mini.attention_window(0), 2047);

  // Factors that do not cover the turned dimensions are named.
  std::string wrong = phi4;
  wrong.replace(wrong.find("\"partial_rotary_factor\": 0.75"), 29, "\"partial_rotary_factor\": 0.5");
  try {
    parse_hf_config(wrong, "cfg.json");
    ADD_FAILURE() << "48 factors for 64 turned dimensions were accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("must hold 32 values each"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lmpack
