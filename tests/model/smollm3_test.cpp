// SmolLM3: a Llama block whose every fourth layer runs attention without
// RoPE (no_rope_layers / no_rope_layer_interval; llama.cpp's smollm3 fixes
// the interval at 4). A random SmolLM3 folder runs the same fast and
// reference, through lmpack's GGUF and the folder written back; leaving the
// NoPE layers out changes the logits, and a config whose no_rope_layers is
// not the interval's pattern is refused by name.
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "io/gguf.h"
#include "model/checkpoint.h"
#include "model/hf_config.h"
#include "model/save_gguf.h"
#include "model/save_hf.h"
#include "arch_test_util.h"
#include "test_paths.h"

namespace lmpack {
namespace {

using testing::max_abs;
using testing::max_abs_diff;

ModelConfig smollm3_config() {
  ModelConfig c = testing::small_arch_config("smollm3", 16, 4);  // layer 3 without RoPE
  c.rope_theta = 5000000.0f;
  c.nope_interval = 4;
  return c;
}

const std::string& smollm3_folder() {
  static const std::string dir = testing::random_model_folder("random_smollm3", smollm3_config(), 9);
  return dir;
}

TEST(SmolLM3, NoRopeLayersRunFastAsReferenceAndMatter) {
  const Checkpoint c = load_checkpoint(smollm3_folder());
  EXPECT_EQ(c.config.architecture, "smollm3");
  EXPECT_EQ(c.config.nope_interval, 4);
  EXPECT_TRUE(c.config.layer_has_rope(2));
  EXPECT_FALSE(c.config.layer_has_rope(3));
  const std::vector<float> fast = testing::logits_of(c), ref = testing::logits_of(c, true);
  EXPECT_GT(max_abs(ref), 2.0f);
  EXPECT_LT(max_abs_diff(fast, ref), 1e-4f * max_abs(ref));
  Checkpoint all_rope = c;
  all_rope.config.nope_interval = 0;
  EXPECT_GT(max_abs_diff(testing::logits_of(all_rope), fast), 1e-3f * max_abs(ref));
  EXPECT_FALSE(c.config.untrainable_reason().empty());
}

TEST(SmolLM3, GgufIsLlamaCppsSmollm3AndHfWritesTheFolderBack) {
  LMPACK_REQUIRE_SHARED();  // the GGUF needs a vocabulary: tok512
  const Checkpoint hf = testing::load_with_tok512(smollm3_folder());
  const std::string path = testing::temp_dir() + "/random_smollm3.gguf";
  save_gguf(hf, path, DType::F32);
  EXPECT_EQ(read_gguf(path).get_string("general.architecture"), "smollm3");
  const Checkpoint back = load_checkpoint(path);
  EXPECT_EQ(back.config.nope_interval, 4);
  EXPECT_EQ(max_abs_diff(testing::logits_of(back), testing::logits_of(hf)), 0.0f);

  const std::string out = testing::temp_dir() + "/random_smollm3_back";
  save_hf(back, out, DType::F32);
  testing::expect_same_safetensors(smollm3_folder() + "/model.safetensors", out + "/model.safetensors");
  EXPECT_EQ(read_hf_config(out + "/config.json").nope_interval, 4);

  Checkpoint every_third = hf;  // llama.cpp's smollm3 cannot say so
  every_third.config.nope_interval = 3;
  EXPECT_THROW(save_gguf(every_third, testing::temp_dir() + "/random_smollm3_3.gguf", DType::F32), Error);
}

// SmolLM3-3B's config.json (the keys lmpack reads, as published).
TEST(SmolLM3, ReadsThePublishedConfigAndRefusesOtherPatterns) {
  std::string layers;
  for (int l = 0; l < 36; ++l) layers += std::string(l ? ", " : "") + ((l + 1) % 4 == 0 ? "0" : "1");
  const std::string text = R"({"architectures": ["SmolLM3ForCausalLM"], "attention_bias": false,
    "hidden_act": "silu", "hidden_size": 2048, "intermediate_size": 11008, "max_position_embeddings": 65536,
    "mlp_bias": false, "model_type": "smollm3", "no_rope_layer_interval": 4, "no_rope_layers": [)" + layers + R"(],
    "num_attention_heads": 16, "num_hidden_layers": 36, "num_key_value_heads": 4, "rms_norm_eps": 1e-06,
    "rope_scaling": null, "rope_theta": 5000000.0, "sliding_window": null, "tie_word_embeddings": true,
    "use_sliding_window": false, "vocab_size": 128256})";
  const ModelConfig c = parse_hf_config(text, "cfg.json");
  EXPECT_EQ(c.architecture, "smollm3");
  EXPECT_EQ(c.nope_interval, 4);
  EXPECT_FALSE(c.layer_has_rope(35));
  EXPECT_TRUE(c.layer_has_rope(34));
  EXPECT_TRUE(c.tied_embeddings);

  std::string other = text;
  other.replace(other.find("[1, 1, 1, 0"), 11, "[1, 1, 0, 1");
  try {
    parse_hf_config(other, "cfg.json");
    ADD_FAILURE() << "a no_rope_layers pattern other than every fourth was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no_rope_layers[2]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lmpack
