#include "model/hf_config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "test_paths.h"

namespace lmpack {
namespace {

using nlohmann::json;

std::string error_of(const std::string& text) {
  try {
    parse_hf_config(text, "cfg.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

json llama_base() {
  return json::parse(R"({
    "architectures": ["LlamaForCausalLM"], "model_type": "llama",
    "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
    "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256,
    "max_position_embeddings": 131072, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
    "hidden_act": "silu", "tie_word_embeddings": false, "torch_dtype": "bfloat16"})");
}

TEST(HfConfig, ReadsStories260KHf) {
  LMPACK_REQUIRE_SHARED();
  ModelConfig c = read_hf_config(testing::shared_path("models/stories260K-hf/config.json"));
  EXPECT_EQ(c.architecture, "llama");
  EXPECT_EQ(c.dim, 64);
  EXPECT_EQ(c.hidden_dim, 172);
  EXPECT_EQ(c.n_layers, 5);
  EXPECT_EQ(c.n_heads, 8);
  EXPECT_EQ(c.n_kv_heads, 4);
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_EQ(c.context_length, 512);
  EXPECT_FLOAT_EQ(c.rms_eps, 1e-5f);
  EXPECT_FLOAT_EQ(c.rope_theta, 10000.0f);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_FALSE(c.attn_qkv_bias);
  EXPECT_EQ(c.rope_scaling.type, RopeScaling::Type::kNone);
}

TEST(HfConfig, Llama3RopeScaling) {
  json j = llama_base();
  j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                       {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}};
  ModelConfig c = parse_hf_config(j.dump(), "cfg.json");
  EXPECT_EQ(c.rope_scaling.type, RopeScaling::Type::kLlama3);
  EXPECT_EQ(c.rope_scaling.factor, 8.0f);
  EXPECT_EQ(c.rope_scaling.low_freq_factor, 1.0f);
  EXPECT_EQ(c.rope_scaling.high_freq_factor, 4.0f);
  EXPECT_EQ(c.rope_scaling.original_max_position, 8192);
  EXPECT_EQ(c.rope_theta, 500000.0f);
  EXPECT_EQ(c.n_kv_heads, 8);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_FALSE(c.tied_embeddings);
  // The older spelling "type" works too; null and "default" mean none.
  j["rope_scaling"].erase("rope_type");
  j["rope_scaling"]["type"] = "llama3";
  EXPECT_EQ(parse_hf_config(j.dump(), "cfg.json").rope_scaling.type, RopeScaling::Type::kLlama3);
  j["rope_scaling"] = nullptr;
  EXPECT_EQ(parse_hf_config(j.dump(), "cfg.json").rope_scaling.type, RopeScaling::Type::kNone);
  j["rope_scaling"] = {{"rope_type", "default"}};
  EXPECT_EQ(parse_hf_config(j.dump(), "cfg.json").rope_scaling.type, RopeScaling::Type::kNone);
  // Other rope types are refused with the type named.
  j["rope_scaling"] = {{"type", "yarn"}, {"factor", 4.0}};
  EXPECT_NE(error_of(j.dump()).find("rope_scaling type 'yarn' is not supported"), std::string::npos);
  j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}};
  EXPECT_NE(error_of(j.dump()).find("missing key 'rope_scaling.low_freq_factor'"), std::string::npos)
      << error_of(j.dump());
}

TEST(HfConfig, MistralWithDefaults) {
  // Mistral-7B-v0.1 style; no rope_theta, no head_dim, sliding_window given.
  const char* text = R"({"architectures": ["MistralForCausalLM"], "hidden_size": 4096,
    "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32,
    "num_key_value_heads": 8, "vocab_size": 32000, "max_position_embeddings": 32768,
    "sliding_window": 4096, "head_dim": null})";
  ModelConfig c = parse_hf_config(text, "cfg.json");
  EXPECT_EQ(c.architecture, "mistral");
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.rope_theta, 10000.0f);
  EXPECT_FLOAT_EQ(c.rms_eps, 1e-6f);
  EXPECT_FALSE(c.tied_embeddings);
  EXPECT_FALSE(c.attn_qkv_bias);
  // The window is applied to every layer; Mistral v0.2+ writes null (none).
  EXPECT_EQ(c.sliding_window, 4096);
  EXPECT_EQ(c.attention_window(0), 4096);
  EXPECT_EQ(c.attention_window(31), 4096);
  json j = json::parse(text);
  EXPECT_EQ(json::parse(hf_config_to_json(c, {}))["sliding_window"], 4096);
  j["sliding_window"] = nullptr;
  c = parse_hf_config(j.dump(), "cfg.json");
  EXPECT_EQ(c.sliding_window, 0);
  EXPECT_EQ(c.attention_window(0), 0);
  EXPECT_TRUE(json::parse(hf_config_to_json(c, {}))["sliding_window"].is_null());
  j["sliding_window"] = -5;
  EXPECT_NE(error_of(j.dump()).find("sliding window -5 must be in [0, "), std::string::npos);
}

TEST(HfConfig, Qwen2HasBiasesAndExplicitHeadDim) {
  const char* text = R"({"architectures": ["Qwen2ForCausalLM"], "hidden_size": 896,
    "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14,
    "num_key_value_heads": 2, "vocab_size": 151936, "max_position_embeddings": 32768,
    "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "tie_word_embeddings": true,
    "use_sliding_window": false})";
  ModelConfig c = parse_hf_config(text, "cfg.json");
  EXPECT_EQ(c.architecture, "qwen2");
  EXPECT_TRUE(c.attn_qkv_bias);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.n_kv_heads, 2);
  EXPECT_EQ(c.rope_theta, 1000000.0f);
  // head_dim given apart from hidden/heads; kv heads default to heads.
  json j = json::parse(text);
  j["head_dim"] = 128;
  j.erase("num_key_value_heads");
  c = parse_hf_config(j.dump(), "cfg.json");
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.n_kv_heads, 14);
  EXPECT_EQ(c.q_dim(), 14 * 128);
}

// Qwen3-0.6B's config.json (the keys lmpack reads, as published).
TEST(HfConfig, Qwen3HasQkNormsAndNeedsHeadDim) {
  const char* text = R"({"architectures": ["Qwen3ForCausalLM"], "attention_bias": false,
    "attention_dropout": 0.0, "bos_token_id": 151643, "eos_token_id": 151645, "head_dim": 128,
    "hidden_act": "silu", "hidden_size": 1024, "initializer_range": 0.02, "intermediate_size": 3072,
    "max_position_embeddings": 40960, "max_window_layers": 28, "model_type": "qwen3",
    "num_attention_heads": 16, "num_hidden_layers": 28, "num_key_value_heads": 8, "rms_norm_eps": 1e-06,
    "rope_scaling": null, "rope_theta": 1000000, "sliding_window": null, "tie_word_embeddings": true,
    "torch_dtype": "bfloat16", "use_cache": true, "use_sliding_window": false, "vocab_size": 151936})";
  ModelConfig c = parse_hf_config(text, "cfg.json");
  EXPECT_EQ(c.architecture, "qwen3");
  EXPECT_TRUE(c.attn_qk_norm);
  EXPECT_FALSE(c.attn_qkv_bias);
  EXPECT_EQ(c.head_dim, 128);  // not 1024 / 16 = 64
  EXPECT_EQ(c.q_dim(), 2048);
  EXPECT_EQ(c.n_kv_heads, 8);
  EXPECT_TRUE(c.tied_embeddings);
  // Qwen3Config defaults an absent head_dim to 128, not hidden / heads: lmpack
  // refuses to guess.
  json j = json::parse(text);
  j.erase("head_dim");
  EXPECT_EQ(error_of(j.dump()), "cfg.json: missing key 'head_dim'");
  j = json::parse(text);
  j["use_sliding_window"] = true;
  EXPECT_NE(error_of(j.dump()).find("use_sliding_window true is not supported"), std::string::npos);
  j = json::parse(text);
  j["attention_bias"] = true;
  EXPECT_NE(error_of(j.dump()).find("attention_bias true"), std::string::npos);
}

// gemma-2-2b's config.json (the keys lmpack reads, as published).
TEST(HfConfig, Gemma2ReadsItsFieldsAndWritesThemBack) {
  const char* text = R"({"architectures": ["Gemma2ForCausalLM"], "attention_bias": false,
    "attn_logit_softcapping": 50.0, "bos_token_id": 2, "eos_token_id": 1, "final_logit_softcapping": 30.0,
    "head_dim": 256, "hidden_act": "gelu_pytorch_tanh", "hidden_activation": "gelu_pytorch_tanh",
    "hidden_size": 2304, "intermediate_size": 9216, "max_position_embeddings": 8192, "model_type": "gemma2",
    "num_attention_heads": 8, "num_hidden_layers": 26, "num_key_value_heads": 4, "pad_token_id": 0,
    "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06, "rope_theta": 10000.0, "sliding_window": 4096,
    "torch_dtype": "float32", "vocab_size": 256000})";
  const ModelConfig c = parse_hf_config(text, "cfg.json");
  EXPECT_EQ(c.architecture, "gemma2");
  EXPECT_TRUE(c.tied_embeddings);  // Gemma2Config's default
  EXPECT_TRUE(c.post_norms);
  EXPECT_EQ(c.ffn_activation, FfnActivation::kGeluTanh);
  EXPECT_EQ(c.head_dim, 256);
  EXPECT_FLOAT_EQ(c.embedding_scale, 48.0f);  // sqrt(2304)
  EXPECT_FLOAT_EQ(c.attention_score_scale(), 1.0f / 16.0f);
  EXPECT_EQ(c.attn_softcap, 50.0f);
  EXPECT_EQ(c.final_softcap, 30.0f);
  EXPECT_EQ(c.attention_window(0), 4096);  // even layers local
  EXPECT_EQ(c.attention_window(1), 0);
  EXPECT_EQ(c.attention_window(24), 4096);
  EXPECT_EQ(c.attention_window(25), 0);
  EXPECT_EQ(hf_norm_offset(c.architecture), 1.0f);
  EXPECT_EQ(hf_norm_offset("llama"), 0.0f);

  const json back = json::parse(hf_config_to_json(c, {}));
  EXPECT_EQ(back["query_pre_attn_scalar"], 256.0);
  EXPECT_EQ(back["attn_logit_softcapping"], 50.0);
  EXPECT_EQ(back["final_logit_softcapping"], 30.0);
  EXPECT_EQ(back["sliding_window"], 4096);
  EXPECT_EQ(back["hidden_activation"], "gelu_pytorch_tanh");
  const ModelConfig again = parse_hf_config(back.dump(), "out.json");
  EXPECT_EQ(again.attention_score_scale(), c.attention_score_scale());
  EXPECT_EQ(again.embedding_scale, c.embedding_scale);

  json j = json::parse(text);
  j["hidden_activation"] = "silu";
  EXPECT_NE(error_of(j.dump()).find("hidden_activation 'silu' is not supported (gelu_pytorch_tanh)"), std::string::npos);
  j = json::parse(text);
  j["layer_types"] = json::array();
  for (int l = 0; l < 26; ++l) j["layer_types"].push_back(l % 2 == 0 ? "sliding_attention" : "full_attention");
  EXPECT_EQ(parse_hf_config(j.dump(), "cfg.json").attention_window(0), 4096);
  j["layer_types"][0] = "full_attention";
  EXPECT_NE(error_of(j.dump()).find("layer_types[0] is \"full_attention\""), std::string::npos) << error_of(j.dump());
  j = json::parse(text);
  j["final_logit_softcapping"] = nullptr;
  EXPECT_EQ(parse_hf_config(j.dump(), "cfg.json").final_softcap, 0.0f);
}

TEST(HfConfig, Errors) {
  json j = llama_base();
  j["architectures"] = {"GPT2LMHeadModel"};
  std::string e = error_of(j.dump());
  EXPECT_NE(e.find("cfg.json: unsupported architecture 'GPT2LMHeadModel' (supported: LlamaForCausalLM, "
                   "MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, Gemma2ForCausalLM, Gemma3ForCausalLM, "
                    "Phi3ForCausalLM, SmolLM3ForCausalLM, MixtralForCausalLM, Qwen3MoeForCausalLM)"),
            std::string::npos)
      << e;

  j = llama_base();
  j.erase("hidden_size");
  EXPECT_EQ(error_of(j.dump()), "cfg.json: missing key 'hidden_size'");
  j = llama_base();
  j["vocab_size"] = nullptr;
  EXPECT_EQ(error_of(j.dump()), "cfg.json: missing key 'vocab_size'");
  j = llama_base();
  j.erase("architectures");
  j.erase("model_type");
  EXPECT_EQ(error_of(j.dump()), "cfg.json: missing key 'architectures'");

  j = llama_base();
  j["hidden_size"] = "4096";
  e = error_of(j.dump());
  EXPECT_NE(e.find("key 'hidden_size' must be an integer, got string"), std::string::npos) << e;
  j = llama_base();
  j["rms_norm_eps"] = true;
  e = error_of(j.dump());
  EXPECT_NE(e.find("key 'rms_norm_eps' must be a number"), std::string::npos) << e;
  j = llama_base();
  j["tie_word_embeddings"] = 1;
  e = error_of(j.dump());
  EXPECT_NE(e.find("key 'tie_word_embeddings' must be true or false"), std::string::npos) << e;
  j = llama_base();
  j["num_hidden_layers"] = 2.5;
  e = error_of(j.dump());
  EXPECT_NE(e.find("'num_hidden_layers' must be an integer"), std::string::npos) << e;
  j = llama_base();
  j["architectures"] = "LlamaForCausalLM";
  e = error_of(j.dump());
  EXPECT_NE(e.find("'architectures' must be a non-empty array of strings"), std::string::npos) << e;

  // Values the config validator refuses.
  j = llama_base();
  j["num_key_value_heads"] = 5;
  e = error_of(j.dump());
  EXPECT_NE(e.find("not a multiple of KV head count 5"), std::string::npos) << e;
  j = llama_base();
  j["num_attention_heads"] = 0;
  EXPECT_NE(error_of(j.dump()).find("num_attention_heads must be positive"), std::string::npos);
  j = llama_base();
  j["hidden_act"] = "gelu";
  EXPECT_NE(error_of(j.dump()).find("hidden_act 'gelu'"), std::string::npos);
  j = llama_base();
  j["attention_bias"] = true;
  EXPECT_NE(error_of(j.dump()).find("attention_bias"), std::string::npos);

  EXPECT_NE(error_of("{\"hidden_size\": 64,").find("cfg.json: not valid JSON"), std::string::npos);
  EXPECT_NE(error_of("").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of("[1, 2]").find("expected a JSON object"), std::string::npos);
  EXPECT_THROW(read_hf_config(testing::temp_dir() + "/no/such/config.json"), Error);
}

TEST(HfConfig, ModelTypeAloneIsEnough) {
  json j = llama_base();
  j.erase("architectures");
  j["model_type"] = "qwen2";
  EXPECT_EQ(parse_hf_config(j.dump(), "cfg.json").architecture, "qwen2");
  j["model_type"] = "gemma";
  EXPECT_NE(error_of(j.dump()).find("unsupported architecture 'gemma'"), std::string::npos);
}

TEST(HfConfig, ToJsonRoundTrips) {
  for (const char* arch : {"llama", "mistral", "qwen2", "qwen3"}) {
    ModelConfig c;
    c.architecture = arch;
    c.dim = 96;
    c.hidden_dim = 200;
    c.n_layers = 3;
    c.n_heads = 6;
    c.n_kv_heads = 2;
    c.head_dim = 24;  // apart from 96 / 6 = 16
    c.vocab_size = 1000;
    c.context_length = 2048;
    c.rms_eps = 1e-5f;
    c.rope_theta = 500000.0f;
    c.tied_embeddings = std::string(arch) == "qwen2";
    c.attn_qkv_bias = std::string(arch) == "qwen2";
    c.attn_qk_norm = std::string(arch) == "qwen3";
    c.rope_scaling.type = RopeScaling::Type::kLlama3;
    c.rope_scaling.factor = 32.0f;
    c.rope_scaling.low_freq_factor = 1.0f;
    c.rope_scaling.high_freq_factor = 4.0f;
    c.rope_scaling.original_max_position = 8192;
    HfConfigExtras extras;
    extras.torch_dtype = DType::BF16;
    extras.bos_token_id = 1;
    extras.eos_token_id = 2;
    const std::string text = hf_config_to_json(c, extras);
    json j = json::parse(text);
    EXPECT_EQ(j["torch_dtype"], "bfloat16");
    EXPECT_EQ(j["bos_token_id"], 1);
    EXPECT_EQ(j["head_dim"], 24);
    EXPECT_NE(text.find("\"rms_norm_eps\": 1e-05"), std::string::npos) << text;  // shortest float form
    ModelConfig back = parse_hf_config(text, "out.json");
    EXPECT_EQ(back.architecture, c.architecture);
    EXPECT_EQ(back.dim, c.dim);
    EXPECT_EQ(back.hidden_dim, c.hidden_dim);
    EXPECT_EQ(back.n_layers, c.n_layers);
    EXPECT_EQ(back.n_heads, c.n_heads);
    EXPECT_EQ(back.n_kv_heads, c.n_kv_heads);
    EXPECT_EQ(back.head_dim, c.head_dim);
    EXPECT_EQ(back.vocab_size, c.vocab_size);
    EXPECT_EQ(back.context_length, c.context_length);
    EXPECT_EQ(back.rms_eps, c.rms_eps);
    EXPECT_EQ(back.rope_theta, c.rope_theta);
    EXPECT_EQ(back.tied_embeddings, c.tied_embeddings);
    EXPECT_EQ(back.attn_qkv_bias, c.attn_qkv_bias);
    EXPECT_EQ(back.attn_qk_norm, c.attn_qk_norm);
    EXPECT_EQ(back.rope_scaling.type, c.rope_scaling.type);
    EXPECT_EQ(back.rope_scaling.factor, c.rope_scaling.factor);
    EXPECT_EQ(back.rope_scaling.original_max_position, 8192);
  }
  ModelConfig c;
  c.architecture = "llama";
  c.attn_qkv_bias = true;
  EXPECT_THROW(hf_config_to_json(c), Error);
  c.architecture = "gpt2";
  EXPECT_THROW(hf_config_to_json(c), Error);
}

}  // namespace
}  // namespace lmpack
