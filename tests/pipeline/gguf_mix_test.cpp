// The per-tensor types of llama.cpp's mixes. Expected values were derived by
// reading llama.cpp's src/llama-quant.cpp (llama_tensor_get_type_impl,
// tensor_type_fallback; ggml-org/llama.cpp at 007dbbf3fd17eefe9b47fee45f48f7ba5e62b714)
// for the llama architecture and are written here as data.
#include "pipeline/gguf_mix.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"

namespace lmpack {
namespace {

ModelConfig llama_config(int64_t layers, int64_t heads, int64_t kv_heads, int64_t dim, int64_t hidden, int64_t vocab) {
  ModelConfig c;
  c.dim = dim;
  c.hidden_dim = hidden;
  c.n_layers = layers;
  c.n_heads = heads;
  c.n_kv_heads = kv_heads;
  c.head_dim = dim / heads;
  c.vocab_size = vocab;
  c.context_length = 4096;
  return c;
}

// Every tensor of a llama checkpoint, in map (alphabetical) order as a Checkpoint holds them.
std::vector<MixTensor> llama_tensors(const ModelConfig& c, bool tied) {
  std::map<std::string, std::vector<int64_t>> m;
  m["token_embd.weight"] = {c.vocab_size, c.dim};
  m["output_norm.weight"] = {c.dim};
  if (!tied) m["output.weight"] = {c.vocab_size, c.dim};
  for (int64_t i = 0; i < c.n_layers; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    m[p + "attn_norm.weight"] = {c.dim};
    m[p + "attn_q.weight"] = {c.q_dim(), c.dim};
    m[p + "attn_k.weight"] = {c.kv_dim(), c.dim};
    m[p + "attn_v.weight"] = {c.kv_dim(), c.dim};
    m[p + "attn_output.weight"] = {c.dim, c.q_dim()};
    m[p + "ffn_norm.weight"] = {c.dim};
    m[p + "ffn_gate.weight"] = {c.hidden_dim, c.dim};
    m[p + "ffn_up.weight"] = {c.hidden_dim, c.dim};
    m[p + "ffn_down.weight"] = {c.dim, c.hidden_dim};
  }
  std::vector<MixTensor> out;
  for (auto& [name, shape] : m) out.push_back({name, shape});
  return out;
}

std::map<std::string, MixChoice> choose(const std::string& type, const ModelConfig& c, bool tied,
                                        const std::function<void(MixOptions&)>& tweak = {}) {
  MixOptions o;
  o.type = parse_quantize_type("TYPE", type);
  if (tweak) tweak(o);
  const auto tensors = llama_tensors(c, tied);
  const auto choices = choose_tensor_types(o, c, tensors);
  std::map<std::string, MixChoice> by_name;
  for (size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_EQ(choices[i].name, tensors[i].name);
    by_name[choices[i].name] = choices[i];
  }
  return by_name;
}

std::string t(const std::map<std::string, MixChoice>& m, const std::string& name) {
  auto it = m.find(name);
  return it == m.end() ? "<missing>" : std::string(dtype_name(it->second.type));
}
std::string blk(int i, const char* what) { return "blk." + std::to_string(i) + "." + what + ".weight"; }

// use_more_bits(i, 32): i < 4 || i >= 28 || (i - 4) % 3 == 2
const std::set<int> kMoreBits32 = {0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31};

struct MixExpectation {
  const char* mix;
  const char* token_embd;
  const char* output;
  const char* attn_q_k;     // attn_q, attn_k
  const char* attn_v_more;  // attn_v in a use_more_bits layer (or the first two for Q3_K_M)
  const char* attn_v_other;
  const char* attn_output;
  const char* ffn_gate_up;
  const char* ffn_down_more;
  const char* ffn_down_other;
};

// 32 layers, GQA 1 (Llama-2-7B shapes), separate output.weight.
const MixExpectation kLlama7B[] = {
    {"Q4_K_M", "q4_K", "q6_K", "q4_K", "q6_K", "q4_K", "q4_K", "q4_K", "q6_K", "q4_K"},
    {"Q5_K_M", "q5_K", "q6_K", "q5_K", "q6_K", "q5_K", "q5_K", "q5_K", "q6_K", "q5_K"},
    {"Q2_K", "q2_K", "q6_K", "q2_K", "q3_K", "q3_K", "q3_K", "q2_K", "q3_K", "q3_K"},
    {"Q6_K", "q6_K", "q6_K", "q6_K", "q6_K", "q6_K", "q6_K", "q6_K", "q6_K", "q6_K"},
    {"Q4_0", "q4_0", "q6_K", "q4_0", "q4_0", "q4_0", "q4_0", "q4_0", "q4_0", "q4_0"},
    {"Q8_0", "q8_0", "q8_0", "q8_0", "q8_0", "q8_0", "q8_0", "q8_0", "q8_0", "q8_0"},
    {"Q5_K_S", "q5_K", "q6_K", "q5_K", "q5_K", "q5_K", "q5_K", "q5_K", "q5_K", "q5_K"},
    {"F16", "f16", "f16", "f16", "f16", "f16", "f16", "f16", "f16", "f16"},
};

TEST(GgufMix, Llama7BLayerPatterns) {
  const ModelConfig c = llama_config(32, 32, 32, 4096, 11008, 32000);
  for (const MixExpectation& e : kLlama7B) {
    SCOPED_TRACE(e.mix);
    auto m = choose(e.mix, c, /*tied=*/false);
    EXPECT_EQ(t(m, "token_embd.weight"), e.token_embd);
    EXPECT_EQ(t(m, "output.weight"), e.output);
    EXPECT_EQ(t(m, "output_norm.weight"), "f32");
    for (int i = 0; i < 32; ++i) {
      SCOPED_TRACE(i);
      const bool more = kMoreBits32.count(i) > 0;
      EXPECT_EQ(t(m, blk(i, "attn_q")), e.attn_q_k);
      EXPECT_EQ(t(m, blk(i, "attn_k")), e.attn_q_k);
      EXPECT_EQ(t(m, blk(i, "attn_v")), more ? e.attn_v_more : e.attn_v_other);
      EXPECT_EQ(t(m, blk(i, "attn_output")), e.attn_output);
      EXPECT_EQ(t(m, blk(i, "ffn_gate")), e.ffn_gate_up);
      EXPECT_EQ(t(m, blk(i, "ffn_up")), e.ffn_gate_up);
      EXPECT_EQ(t(m, blk(i, "ffn_down")), more ? e.ffn_down_more : e.ffn_down_other);
      EXPECT_EQ(t(m, blk(i, "attn_norm")), "f32");
      EXPECT_EQ(t(m, blk(i, "ffn_norm")), "f32");
      EXPECT_FALSE(m[blk(i, "attn_v")].fallback);
    }
  }
}

TEST(GgufMix, Q3KMFirstLayersAndQ4KS) {
  const ModelConfig c = llama_config(32, 32, 32, 4096, 11008, 32000);
  auto m = choose("Q3_K_M", c, false);
  for (int i = 0; i < 32; ++i) {
    SCOPED_TRACE(i);
    // attn_v: i_attention_wv < 2 -> q5_K else q4_K; ffn_down: i < 32/16 -> q5_K else q4_K
    EXPECT_EQ(t(m, blk(i, "attn_v")), i < 2 ? "q5_K" : "q4_K");
    EXPECT_EQ(t(m, blk(i, "ffn_down")), i < 2 ? "q5_K" : "q4_K");
    EXPECT_EQ(t(m, blk(i, "attn_output")), "q4_K");
    EXPECT_EQ(t(m, blk(i, "attn_q")), "q3_K");
    EXPECT_EQ(t(m, blk(i, "ffn_up")), "q3_K");
  }
  EXPECT_EQ(t(m, "output.weight"), "q6_K");
  EXPECT_EQ(t(m, "token_embd.weight"), "q3_K");

  auto s = choose("Q4_K_S", c, false);
  for (int i = 0; i < 32; ++i) {
    EXPECT_EQ(t(s, blk(i, "attn_v")), i < 4 ? "q5_K" : "q4_K");
    EXPECT_EQ(t(s, blk(i, "ffn_down")), i < 4 ? "q5_K" : "q4_K");  // i < n/8
  }
  auto l = choose("Q3_K_L", c, false);
  EXPECT_EQ(t(l, blk(7, "attn_v")), "q5_K");
  EXPECT_EQ(t(l, blk(7, "ffn_down")), "q5_K");
  EXPECT_EQ(t(l, blk(7, "attn_output")), "q5_K");
  EXPECT_EQ(t(l, blk(7, "ffn_gate")), "q3_K");
}

TEST(GgufMix, GqaModelChoices) {
  // Llama-3-8B shapes: GQA 32/8 = 4.
  const ModelConfig c = llama_config(32, 32, 8, 4096, 14336, 128256);
  auto q2 = choose("Q2_K", c, false);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(t(q2, blk(i, "attn_v")), "q4_K");  // n_gqa >= 4
  EXPECT_EQ(t(q2, blk(3, "ffn_down")), "q3_K");
  EXPECT_EQ(t(q2, blk(3, "attn_k")), "q2_K");
  auto nl = choose("IQ4_NL", c, false);
  EXPECT_EQ(t(nl, blk(9, "attn_v")), "q5_K");    // IQ4_NL && n_gqa >= 4
  EXPECT_EQ(t(nl, blk(0, "ffn_down")), "q5_K");  // i < n/8 without imatrix
  EXPECT_EQ(t(nl, blk(4, "ffn_down")), "iq4_nl");
  auto q4km = choose("Q4_K_M", c, false);
  EXPECT_EQ(t(q4km, blk(6, "attn_v")), "q6_K");
  EXPECT_EQ(t(q4km, blk(7, "attn_v")), "q4_K");
  // 2 of 2 heads: GQA 1 -> Q2_K attn_v is q3_K (checked above for 7B).
  // With an imatrix Q4_0's first ffn_down layers are Q4_1.
  auto q40 = choose("Q4_0", c, false, [](MixOptions& o) { o.has_imatrix = true; });
  EXPECT_EQ(t(q40, blk(3, "ffn_down")), "q4_1");
  EXPECT_EQ(t(q40, blk(4, "ffn_down")), "q4_0");
}

TEST(GgufMix, TiedEmbeddingsGetTheOutputType) {
  const ModelConfig c = llama_config(6, 8, 4, 256, 768, 512);  // ts-llama-4.9M: tied
  auto m = choose("Q4_K_M", c, /*tied=*/true);
  EXPECT_EQ(t(m, "token_embd.weight"), "q6_K");
  auto q8 = choose("Q8_0", c, true);
  EXPECT_EQ(t(q8, "token_embd.weight"), "q8_0");
}

TEST(GgufMix, FallbacksOnNarrowRows) {
  // stories260K: rows of 64 (dim) and 172 (hidden, ffn_down); 5 layers, tied.
  const ModelConfig c = llama_config(5, 8, 4, 64, 172, 512);
  auto m = choose("Q4_K_M", c, true);
  EXPECT_EQ(t(m, "token_embd.weight"), "q8_0");  // output rule: 64 % 256 != 0 -> q8_0
  EXPECT_FALSE(m["token_embd.weight"].fallback);
  EXPECT_EQ(t(m, blk(0, "attn_q")), "q5_0");  // q4_K -> q5_0
  EXPECT_TRUE(m[blk(0, "attn_q")].fallback);
  EXPECT_EQ(m[blk(0, "attn_q")].note, "blk.0.attn_q.weight: 64 columns fit no q4_K block of 256, using q5_0");
  // use_more_bits(i, 5) holds for i = 2 and 4: q6_K -> q8_0
  EXPECT_EQ(t(m, blk(2, "attn_v")), "q8_0");
  EXPECT_EQ(t(m, blk(4, "attn_v")), "q8_0");
  EXPECT_EQ(t(m, blk(1, "attn_v")), "q5_0");
  // 172 columns fit no 32-block either -> f16
  EXPECT_EQ(t(m, blk(0, "ffn_down")), "f16");
  EXPECT_EQ(m[blk(0, "ffn_down")].note, "blk.0.ffn_down.weight: 172 columns fit no q4_K block of 256, using f16");
  EXPECT_EQ(m[blk(2, "ffn_down")].note, "blk.2.ffn_down.weight: 172 columns fit no q6_K block of 256, using f16");
  EXPECT_EQ(t(m, blk(1, "ffn_down")), "f16");
  EXPECT_EQ(t(m, blk(1, "ffn_gate")), "q5_0");

  auto q2 = choose("Q2_K", c, true);
  EXPECT_EQ(t(q2, blk(0, "attn_q")), "q4_0");  // q2_K -> q4_0
  EXPECT_EQ(t(q2, blk(0, "attn_v")), "q4_0");  // q3_K -> q4_0
  auto q5 = choose("Q5_K_S", c, true);
  EXPECT_EQ(t(q5, blk(0, "attn_q")), "q5_1");  // q5_K -> q5_1
  auto q40 = choose("Q4_0", c, true);
  EXPECT_EQ(t(q40, blk(0, "attn_q")), "q4_0");
  EXPECT_EQ(t(q40, blk(0, "ffn_down")), "f16");  // llama.cpp would refuse; we fall back

  // ts-llama-4.9M: rows of 256 and 768 fit every k-quant: no fallback at all.
  const ModelConfig big = llama_config(6, 8, 4, 256, 768, 512);
  for (const char* mix : {"Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M", "Q6_K"}) {
    for (auto& [name, choice] : choose(mix, big, true)) EXPECT_FALSE(choice.fallback) << mix << " " << name;
  }
  EXPECT_EQ(fallback_type(DType::Q6_K, 256), DType::Q6_K);
  EXPECT_EQ(fallback_type(DType::Q6_K, 96), DType::Q8_0);
  EXPECT_EQ(fallback_type(DType::Q8_0, 40), DType::F16);
}

TEST(GgufMix, OverridesAndPure) {
  const ModelConfig c = llama_config(32, 32, 32, 4096, 11008, 32000);
  auto m = choose("Q4_K_M", c, false, [](MixOptions& o) {
    o.overrides.push_back(make_tensor_type_override("--tensor-type", "ffn_down", "q8_0"));
    o.overrides.push_back(make_tensor_type_override("--tensor-type", "blk\\.1\\.", "q2_k"));  // ffn_down wins first
    o.output_type = DType::Q8_0;
    o.token_embedding_type = DType::F16;
  });
  EXPECT_EQ(t(m, blk(1, "ffn_down")), "q8_0");
  EXPECT_EQ(t(m, blk(1, "attn_v")), "q2_K");
  EXPECT_EQ(t(m, blk(0, "attn_v")), "q6_K");
  EXPECT_EQ(t(m, "output.weight"), "q8_0");
  EXPECT_EQ(t(m, "token_embd.weight"), "f16");
  EXPECT_EQ(m[blk(1, "attn_v")].note, "tensor_types blk\\.1\\.=q2_K");

  auto p = choose("Q4_K_M", c, false, [](MixOptions& o) { o.pure = true; });
  for (auto& [name, choice] : p)
    EXPECT_EQ(std::string(dtype_name(choice.type)), choice.quantizable ? "q4_K" : "f32") << name;
  // A tensor type that names no mix is pure too.
  auto q4k = choose("q4_k", c, false);
  EXPECT_EQ(t(q4k, "output.weight"), "q4_K");
  EXPECT_EQ(t(q4k, blk(0, "ffn_down")), "q4_K");
}

TEST(GgufMix, ParsesTypesAndFileTypes) {
  EXPECT_EQ(parse_quantize_type("TYPE", "q4_k_m").file_type, LlamaFileType::kMostlyQ4_K_M);
  EXPECT_EQ(parse_quantize_type("TYPE", "Q4_K_M").name, "Q4_K_M");
  EXPECT_EQ(static_cast<uint32_t>(parse_quantize_type("TYPE", "Q8_0").file_type), 7u);
  EXPECT_EQ(static_cast<uint32_t>(parse_quantize_type("TYPE", "bf16").file_type), 32u);
  EXPECT_EQ(static_cast<uint32_t>(parse_quantize_type("TYPE", "IQ4_NL").file_type), 25u);
  EXPECT_EQ(static_cast<uint32_t>(parse_quantize_type("TYPE", "f32").file_type), 0u);
  EXPECT_TRUE(parse_quantize_type("TYPE", "q4_0").is_mix);
  QuantizeType q5k = parse_quantize_type("TYPE", "Q5_K");
  EXPECT_FALSE(q5k.is_mix);
  EXPECT_EQ(q5k.base, DType::Q5_K);
  EXPECT_EQ(q5k.file_type, LlamaFileType::kMostlyQ5_K_M);
  EXPECT_EQ(parse_tensor_type("--output-type", "IQ4_nl"), DType::IQ4_NL);

  try {
    parse_quantize_type("TYPE", "q4_k_x");
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("TYPE: unknown type 'q4_k_x'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("Q4_K_M"), std::string::npos) << msg;
    EXPECT_NE(msg.find("iq4_nl"), std::string::npos) << msg;
  }
  EXPECT_THROW(parse_tensor_type("--output-type", "q4_k_m"), Error);
  EXPECT_THROW(make_tensor_type_override("--tensor-type", "attn_(v", "q8_0"), Error);
  // What std::regex would expand (counted repetitions) or overflow on (long back-reference
  // numbers, found by fuzzing recipe files) is refused; escaped characters stay allowed.
  EXPECT_THROW(make_tensor_type_override("tensor_types", "a{1000}", "q8_0"), Error);
  EXPECT_THROW(make_tensor_type_override("tensor_types", "(a)\\6666666666666666666", "q8_0"), Error);
  EXPECT_THROW(make_tensor_type_override("tensor_types", std::string(257, 'a'), "q8_0"), Error);
  EXPECT_EQ(make_tensor_type_override("tensor_types", "blk\\.[0-9]+\\.attn_v", "q8_0").type, DType::Q8_0);
  EXPECT_THROW(make_tensor_type_override("--tensor-type", "attn_v", "q9_0"), Error);
  EXPECT_THROW(split_tensor_type_argument("--tensor-type", "attn_v"), Error);
  auto [re, ty] = split_tensor_type_argument("--tensor-type", "a=b=q8_0");
  EXPECT_EQ(re, "a=b");
  EXPECT_EQ(ty, "q8_0");
}

TEST(GgufMix, LlamaCppOrder) {
  std::vector<std::string> names = {"blk.10.attn_q.weight", "output.weight", "blk.2.ffn_up.weight",
                                    "blk.2.attn_k.weight", "token_embd.weight"};
  std::sort(names.begin(), names.end(), llama_cpp_tensor_less);
  EXPECT_EQ(names, (std::vector<std::string>{"output.weight", "token_embd.weight", "blk.2.attn_k.weight",
                                             "blk.2.ffn_up.weight", "blk.10.attn_q.weight"}));
}

}  // namespace
}  // namespace lmpack
