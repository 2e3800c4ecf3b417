// GGUF model writing on real inputs: stories260K (llama2.c + tok512) against
// llama.cpp's own conversion of the same model, the HF folder through the fast
// forward, the Llama-2 F16 fixture bit for bit, and random qwen2 / llama3-rope
// models for the architecture-specific parts (halves q/k rows, rope_freqs).
#include "model/save_gguf.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <vector>

#include "core/error.h"
#include "io/gguf.h"
#include "io/safetensors.h"
#include "model/loaders.h"
#include "model/random_model.h"
#include "runtime/forward.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

std::string temp(const std::string& name) { return testing::temp_dir() + "/" + name; }
std::string stories(const std::string& f) { return testing::shared_path("models/stories260K/" + f); }

Checkpoint load_stories_bin() {
  LoadOptions o;
  o.tokenizer_path = stories("tok512.bin");
  return load_checkpoint(stories("stories260K.bin"), o);
}

void expect_same_config(const ModelConfig& a, const ModelConfig& b) {
  EXPECT_EQ(a.dim, b.dim);
  EXPECT_EQ(a.hidden_dim, b.hidden_dim);
  EXPECT_EQ(a.n_layers, b.n_layers);
  EXPECT_EQ(a.n_heads, b.n_heads);
  EXPECT_EQ(a.n_kv_heads, b.n_kv_heads);
  EXPECT_EQ(a.head_dim, b.head_dim);
  EXPECT_EQ(a.vocab_size, b.vocab_size);
  EXPECT_EQ(a.context_length, b.context_length);
  EXPECT_EQ(a.rms_eps, b.rms_eps);
  EXPECT_EQ(a.rope_theta, b.rope_theta);
  EXPECT_EQ(a.tied_embeddings, b.tied_embeddings);
  EXPECT_EQ(a.attn_qkv_bias, b.attn_qkv_bias);
}

void expect_same_bytes(const TensorInfo& a, const TensorInfo& b, const std::string& name) {
  EXPECT_EQ(a.dtype, b.dtype) << name;
  EXPECT_EQ(a.shape, b.shape) << name;
  ASSERT_EQ(a.nbytes, b.nbytes) << name;
  EXPECT_EQ(std::memcmp(a.data, b.data, a.nbytes), 0) << name;
}

std::vector<float> logits_of(const Checkpoint& c, const std::vector<int32_t>& tokens) {
  auto fwd = make_fast_forward(build_weights(c), static_cast<int64_t>(tokens.size()));
  std::vector<float> out(tokens.size() * static_cast<size_t>(c.config.vocab_size));
  fwd->forward(tokens.data(), static_cast<int64_t>(tokens.size()), out.data());
  return out;
}

TEST(SaveGguf, Stories260KBinMatchesLlamaCppConversion) {
  LMPACK_REQUIRE_SHARED();
  Checkpoint src = load_stories_bin();
  const std::string out = temp("stories260K.f32.gguf");
  save_gguf(src, out, DType::F32);

  // Read back as a model: same config, every tensor bit-identical.
  Checkpoint back = load_gguf_checkpoint(out);
  validate_checkpoint(back);
  expect_same_config(back.config, src.config);
  EXPECT_EQ(back.tensors.size(), src.tensors.size());
  for (const auto& [name, t] : src.tensors) {
    const TensorInfo* b = back.find(name);
    ASSERT_NE(b, nullptr) << name;
    expect_same_bytes(*b, t, name);
  }

  // The vocabulary equals the one llama.cpp embedded in stories260K.gguf.
  Checkpoint ref = load_gguf_checkpoint(stories("stories260K.gguf"));
  ASSERT_TRUE(back.vocab && ref.vocab);
  EXPECT_EQ(back.vocab->model, "llama");
  EXPECT_EQ(back.vocab->tokens, ref.vocab->tokens);
  EXPECT_EQ(back.vocab->scores, ref.vocab->scores);
  EXPECT_EQ(back.vocab->token_types, ref.vocab->token_types);
  EXPECT_EQ(back.vocab->bos_id, 1);
  EXPECT_EQ(back.vocab->eos_id, 2);
  EXPECT_EQ(back.vocab->unk_id, 0);
  EXPECT_EQ(back.vocab->bos_id, ref.vocab->bos_id);
  EXPECT_EQ(back.vocab->eos_id, ref.vocab->eos_id);
  // llama.cpp's converter stores an untied copy of the output; ours is tied,
  // which llama.cpp also loads (it falls back on token_embd).
  expect_same_bytes(back.tensor("token_embd.weight"), ref.tensor("output.weight"), "output");

  // Every key of llama.cpp's file that carries information is in ours, with
  // the same type, and the same value except those that differ on purpose.
  GgufFile ours = read_gguf(out);
  GgufFile theirs = read_gguf(stories("stories260K.gguf"));
  for (const auto& [key, v] : theirs.metadata) {
    if (v.type == GgufType::kUint32 && v.u == 0xFFFFFFFFu) continue;  // "no such token" (separator, padding)
    const GgufValue* o = ours.find(key);
    ASSERT_NE(o, nullptr) << "missing key " << key;
    EXPECT_EQ(o->type, v.type) << key;
    if (key == "general.name" || key == "llama.context_length") continue;
    if (v.type == GgufType::kArray) {
      EXPECT_EQ(o->array.size(), v.array.size()) << key;
    } else if (v.type == GgufType::kString) {
      EXPECT_EQ(o->str, v.str) << key;
    } else if (v.is_float()) {
      EXPECT_EQ(o->f, v.f) << key;
    } else {
      EXPECT_EQ(o->u, v.u) << key;
    }
  }
  EXPECT_EQ(ours.get_int("llama.context_length"), 512);  // the .bin's training length
  EXPECT_EQ(ours.get_string("general.name"), "stories260K");
  EXPECT_EQ(ours.get_int("general.file_type"), 0);
  EXPECT_EQ(ours.get_int("general.quantization_version"), 2);
  EXPECT_EQ(ours.get_float("llama.rope.freq_base"), 10000.0);
  EXPECT_EQ(ours.get_int("llama.vocab_size"), 512);
  EXPECT_TRUE(ours.get_bool("tokenizer.ggml.add_bos_token"));
  EXPECT_FALSE(ours.get_bool("tokenizer.ggml.add_eos_token"));
  EXPECT_TRUE(ours.get_bool("tokenizer.ggml.add_space_prefix"));
  EXPECT_EQ(ours.find("llama.attention.key_length"), nullptr);  // head_dim = dim / heads
  EXPECT_EQ(ours.find("output.weight"), nullptr);
  for (const TensorInfo& t : ours.tensors) EXPECT_EQ(t.dtype, DType::F32) << t.name;
  EXPECT_EQ(ours.tensors.front().name, "token_embd.weight");
}

TEST(SaveGguf, HfFolderGivesTheSameLogitsAsTheOriginal) {
  LMPACK_REQUIRE_SHARED();
  LoadOptions o;
  o.tokenizer_path = stories("tok512.bin");
  Checkpoint hf = load_checkpoint(testing::shared_path("models/stories260K-hf"), o);
  const std::string out = temp("stories260K-hf.f32.gguf");
  save_gguf(hf, out, DType::F32);
  Checkpoint back = load_gguf_checkpoint(out);
  expect_same_config(back.config, hf.config);

  const std::vector<int32_t> tokens = {1, 403, 407, 261, 378, 432, 270, 382, 290, 384, 259, 269, 267};
  const std::vector<float> a = logits_of(hf, tokens);
  const std::vector<float> b = logits_of(back, tokens);
  const std::vector<float> bin = logits_of(load_stories_bin(), tokens);
  ASSERT_EQ(a.size(), b.size());
  double max_diff = 0.0, max_diff_bin = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    max_diff = std::max(max_diff, static_cast<double>(std::fabs(a[i] - b[i])));
    max_diff_bin = std::max(max_diff_bin, static_cast<double>(std::fabs(bin[i] - b[i])));
  }
  EXPECT_EQ(max_diff, 0.0);  // same weights, bit for bit, through the same forward
  EXPECT_LT(max_diff_bin, 1e-4);
  // The q rows are llama.cpp's adjacent-pair layout: equal to the .bin's (not HF's halves).
  Checkpoint bin_ckpt = load_stories_bin();
  expect_same_bytes(back.tensor("blk.2.attn_q.weight"), bin_ckpt.tensor("blk.2.attn_q.weight"), "attn_q");
  expect_same_bytes(back.tensor("blk.2.attn_k.weight"), bin_ckpt.tensor("blk.2.attn_k.weight"), "attn_k");
}

TEST(SaveGguf, Llama2TinyRandomF16RoundTripIsBitIdentical) {
  LMPACK_REQUIRE_SHARED();
  const std::string in = testing::shared_path("models/llama-2-tiny-random/llama-2-tiny-random.gguf");
  Checkpoint src = load_gguf_checkpoint(in);
  const std::string out = temp("tiny-random.f16.gguf");
  save_gguf(src, out, DType::F16);
  Checkpoint back = load_gguf_checkpoint(out);
  expect_same_config(back.config, src.config);
  ASSERT_EQ(back.tensors.size(), src.tensors.size());
  for (const auto& [name, t] : src.tensors) expect_same_bytes(back.tensor(name), t, name);
  EXPECT_EQ(back.tensor("blk.0.attn_norm.weight").dtype, DType::F32);  // norms stay F32
  EXPECT_EQ(back.tensor("token_embd.weight").dtype, DType::F16);
  EXPECT_EQ(back.vocab->tokens, src.vocab->tokens);
  EXPECT_EQ(back.vocab->scores, src.vocab->scores);
  EXPECT_EQ(back.vocab->token_types, src.vocab->token_types);
  EXPECT_EQ(read_gguf(out).get_int("general.file_type"), 1);

  // And to BF16: matrices rounded, norms exact.
  const std::string bf = temp("tiny-random.bf16.gguf");
  save_gguf(src, bf, DType::BF16);
  Checkpoint b16 = load_gguf_checkpoint(bf);
  EXPECT_EQ(b16.tensor("blk.0.ffn_up.weight").dtype, DType::BF16);
  expect_same_bytes(b16.tensor("output_norm.weight"), src.tensor("output_norm.weight"), "output_norm");
  EXPECT_EQ(read_gguf(bf).get_int("general.file_type"), 32);
}

TEST(SaveGguf, RefusesWhatLlamaCppCannotLoad) {
  LMPACK_REQUIRE_SHARED();
  Checkpoint bin = load_checkpoint(stories("stories260K.bin"));  // no tokenizer.bin beside it
  ASSERT_FALSE(bin.vocab.has_value());
  const std::string out = temp("refused.gguf");
  try {
    save_gguf(bin, out, DType::F32);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("(`tokenizer`)"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(out));
  Checkpoint ok = load_stories_bin();
  EXPECT_THROW(save_gguf(ok, out, DType::Q4_0), Error);  // the float converter only
  Checkpoint extra = load_stories_bin();
  extra.tensors.emplace("blk.0.mystery.weight", extra.tensor("output_norm.weight"));
  EXPECT_THROW(save_gguf(extra, out, DType::F32), Error);
  Checkpoint bad_id = load_stories_bin();
  bad_id.vocab->eos_id = 999;
  EXPECT_THROW(save_gguf(bad_id, out, DType::F32), Error);
  EXPECT_FALSE(fs::exists(out));
}

TEST(SaveGguf, ShortVocabularyIsPaddedLikeLlamaCpp) {
  LMPACK_REQUIRE_SHARED();
  Checkpoint c = load_stories_bin();
  c.vocab->tokens.resize(500);
  c.vocab->scores.resize(500);
  c.vocab->token_types.resize(500);
  const std::string out = temp("padded.gguf");
  save_gguf(c, out, DType::F32);
  GgufFile g = read_gguf(out);
  const auto tokens = g.get_string_array("tokenizer.ggml.tokens");
  ASSERT_EQ(tokens.size(), 512u);
  EXPECT_EQ(tokens[500], "[PAD500]");
  EXPECT_EQ(g.get_int_array("tokenizer.ggml.token_type")[511], static_cast<int64_t>(TokenType::kUnused));
}

TEST(SaveGguf, Qwen2KeepsHfRowOrderForNeoxRope) {
  LMPACK_REQUIRE_SHARED();
  RandomModelSpec spec;
  ModelConfig& c = spec.config;
  c.architecture = "qwen2";
  c.dim = 32;
  c.hidden_dim = 64;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.head_dim = 8;
  c.vocab_size = 50257;
  c.context_length = 128;
  c.rms_eps = 1e-6f;
  c.rope_theta = 1000000.0f;
  c.tied_embeddings = true;
  c.attn_qkv_bias = true;
  spec.seed = 3;
  const std::string dir = temp("random_qwen2");
  write_random_model(spec, dir);
  LoadOptions o;
  o.tokenizer_path = testing::shared_path("data/llamacpp-vocab-tests/ggml-vocab-gpt-2.gguf");
  Checkpoint src = load_checkpoint(dir, o);
  const std::string out = temp("random_qwen2.gguf");
  save_gguf(src, out, DType::F32);

  GgufFile g = read_gguf(out);
  EXPECT_EQ(g.get_string("general.architecture"), "qwen2");
  EXPECT_EQ(g.get_int("qwen2.embedding_length"), 32);
  EXPECT_EQ(g.get_int("qwen2.attention.head_count_kv"), 2);
  EXPECT_EQ(g.get_float("qwen2.rope.freq_base"), 1000000.0);
  EXPECT_EQ(g.get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(g.get_string("tokenizer.ggml.pre"), "gpt-2");
  EXPECT_EQ(g.find("tokenizer.ggml.add_space_prefix"), nullptr);
  EXPECT_EQ(g.get_string_array("tokenizer.ggml.merges"), src.vocab->merges);
  EXPECT_FALSE(g.get_string_array("tokenizer.ggml.merges").empty());

  // llama.cpp runs qwen2 with NEOX (rotate-half) RoPE and its converter copies
  // q/k unpermuted: every q/k/v weight and bias equals the HF file's bytes.
  SafetensorsFile hf = read_safetensors(dir + "/model.safetensors");
  auto hf_tensor = [&](const std::string& n) { const TensorInfo* t = hf.find(n); EXPECT_NE(t, nullptr) << n; return t; };
  std::map<std::string, const TensorInfo*> written;
  for (const TensorInfo& t : g.tensors) written[t.name] = &t;
  for (int l = 0; l < 2; ++l) {
    for (const char* p : {"q", "k", "v"}) {
      for (const char* kind : {"weight", "bias"}) {
        const std::string ours = cat("blk.", l, ".attn_", p, ".", kind);
        const std::string theirs = cat("model.layers.", l, ".self_attn.", p, "_proj.", kind);
        ASSERT_TRUE(written.count(ours)) << ours;
        const TensorInfo* h = hf_tensor(theirs);
        ASSERT_NE(h, nullptr);
        expect_same_bytes(*written[ours], *h, ours);
      }
    }
  }
  // ... while the internal (adjacent) rows differ from them: the permutation is real.
  const TensorInfo& internal_q = src.tensor("blk.0.attn_q.weight");
  EXPECT_NE(std::memcmp(internal_q.data, written["blk.0.attn_q.weight"]->data, internal_q.nbytes), 0);
  const std::vector<GgufTensorSource> plan = gguf_tensor_plan(src);
  int halves = 0;
  for (const GgufTensorSource& s : plan) halves += s.rope_halves;
  EXPECT_EQ(halves, 8);  // q/k weight and bias, 2 layers
}

// llama.cpp's qwen2 takes q/o matrices of the embedding width only, so a
// Qwen2 whose q width is not its hidden size (heads cut by structured
// pruning) goes out as a llama with biases (adjacent rows, llama.cpp's llama
// takes biases of any width) and reads back as the same Qwen2.
TEST(SaveGguf, Qwen2WithANarrowerQueryGoesOutAsLlamaWithBiases) {
  LMPACK_REQUIRE_SHARED();
  RandomModelSpec spec;
  ModelConfig& c = spec.config;
  c.architecture = "qwen2";
  c.dim = 32;
  c.hidden_dim = 64;
  c.n_layers = 2;
  c.n_heads = 2;
  c.n_kv_heads = 1;
  c.head_dim = 8;  // q width 16, hidden 32
  c.vocab_size = 512;
  c.context_length = 128;
  c.tied_embeddings = true;
  c.attn_qkv_bias = true;
  spec.seed = 5;
  spec.init_std = 0.2f;
  const std::string dir = temp("random_qwen2_narrow");
  write_random_model(spec, dir);
  LoadOptions o;
  o.tokenizer_path = testing::shared_path("models/stories260K/tok512.bin");
  const Checkpoint src = load_checkpoint(dir, o);
  const std::string out = temp("random_qwen2_narrow.gguf");
  save_gguf(src, out, DType::F32);
  const GgufFile g = read_gguf(out);
  EXPECT_EQ(g.get_string("general.architecture"), "llama");
  EXPECT_EQ(g.get_int("llama.attention.key_length"), 8);
  std::map<std::string, const TensorInfo*> written;
  for (const TensorInfo& t : g.tensors) written[t.name] = &t;
  ASSERT_TRUE(written.count("blk.1.attn_q.bias"));
  // Adjacent rows, as lmpack holds them (llama.cpp's llama runs NORM RoPE).
  const TensorInfo& internal_q = src.tensor("blk.0.attn_q.weight");
  EXPECT_EQ(std::memcmp(internal_q.data, written["blk.0.attn_q.weight"]->data, internal_q.nbytes), 0);

  const Checkpoint back = load_checkpoint(out);
  EXPECT_EQ(back.config.architecture, "qwen2");
  EXPECT_TRUE(back.config.attn_qkv_bias);
  const std::vector<int32_t> tokens = {1, 7, 300, 42, 11, 500, 3};
  const std::vector<float> a = logits_of(src, tokens), b = logits_of(back, tokens);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << i;
}

TEST(SaveGguf, TrainedModelAsQwen2KeepsItsLogits) {
  // stories260K-hf with zero q/k/v biases is a Qwen2 model computing the same
  // function. Written as "qwen2", its q/k rows are the HF file's (halves), which
  // llama.cpp's NEOX RoPE expects; llama.cpp gives it the .bin's perplexity
  // (checked with tests/compat: 3.4917 on 20 stories, as for "llama").
  LMPACK_REQUIRE_SHARED();
  LoadOptions o;
  o.tokenizer_path = stories("tok512.bin");
  const std::string hf_dir = testing::shared_path("models/stories260K-hf");
  Checkpoint c = load_checkpoint(hf_dir, o);
  c.config.architecture = "qwen2";
  c.config.attn_qkv_bias = true;
  auto zeros = std::make_shared<std::vector<float>>(static_cast<size_t>(c.config.q_dim()), 0.0f);
  c.keep_alive.push_back(zeros);
  for (int64_t l = 0; l < c.config.n_layers; ++l) {
    for (const char* p : {"q", "k", "v"}) {
      TensorInfo b;
      b.name = cat("blk.", l, ".attn_", p, ".bias");
      b.shape = {*p == 'q' ? c.config.q_dim() : c.config.kv_dim()};
      b.data = reinterpret_cast<const uint8_t*>(zeros->data());
      b.nbytes = static_cast<size_t>(b.shape[0]) * 4;
      c.tensors.emplace(b.name, b);
    }
  }
  const std::string out = temp("stories260K-as-qwen2.gguf");
  save_gguf(c, out, DType::F32);
  GgufFile g = read_gguf(out);
  EXPECT_EQ(g.get_string("general.architecture"), "qwen2");
  SafetensorsFile hf = read_safetensors(hf_dir + "/model.safetensors");
  for (const TensorInfo& t : g.tensors) {
    if (t.name == "blk.3.attn_q.weight") expect_same_bytes(t, *hf.find("model.layers.3.self_attn.q_proj.weight"), t.name);
    if (t.name == "blk.3.attn_k.weight") expect_same_bytes(t, *hf.find("model.layers.3.self_attn.k_proj.weight"), t.name);
  }
  // Read back, the qwen2 file's halves rows return to the internal layout:
  // the same logits as the model that was written.
  Checkpoint back = load_gguf_checkpoint(out);
  const std::vector<int32_t> tokens = {1, 403, 407, 261, 378, 432, 270, 382, 290, 384, 259, 269, 267};
  const std::vector<float> a = logits_of(c, tokens);
  const std::vector<float> b = logits_of(back, tokens);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << "logit " << i;
}

TEST(SaveGguf, Llama3RopeScalingBecomesRopeFreqs) {
  LMPACK_REQUIRE_SHARED();
  RandomModelSpec spec;
  ModelConfig& c = spec.config;
  c.architecture = "llama";
  c.dim = 64;
  c.hidden_dim = 96;
  c.n_layers = 1;
  c.n_heads = 2;
  c.n_kv_heads = 2;
  c.head_dim = 16;
  c.vocab_size = 512;
  c.context_length = 256;
  c.rope_theta = 500000.0f;
  c.rope_scaling.type = RopeScaling::Type::kLlama3;
  c.rope_scaling.factor = 8.0f;
  c.rope_scaling.low_freq_factor = 1.0f;
  c.rope_scaling.high_freq_factor = 4.0f;
  c.rope_scaling.original_max_position = 8192;
  const std::string dir = temp("random_llama3");
  write_random_model(spec, dir);
  LoadOptions o;
  o.tokenizer_path = stories("tok512.bin");
  Checkpoint src = load_checkpoint(dir, o);
  ASSERT_EQ(src.config.rope_scaling.type, RopeScaling::Type::kLlama3);

  // head_dim 16, theta 5e5: wavelengths 6, 32, 167, 861 (< 2048: factor 1),
  // 4443 (blended), 22915, 1.2e5, 6.1e5 (> 8192: factor 8).
  const std::vector<float> f = llama3_rope_freq_factors(src.config);
  ASSERT_EQ(f.size(), 8u);
  for (int j = 0; j < 4; ++j) EXPECT_EQ(f[j], 1.0f) << j;
  for (int j = 5; j < 8; ++j) EXPECT_EQ(f[j], 8.0f) << j;
  const double wavelen4 = 2.0 * M_PI * std::pow(500000.0, 8.0 / 16.0);
  const double smooth = (8192.0 / wavelen4 - 1.0) / 3.0;
  EXPECT_NEAR(f[4], 1.0 / ((1.0 - smooth) / 8.0 + smooth), 1e-5);

  const std::string out = temp("random_llama3.gguf");
  save_gguf(src, out, DType::F32);
  GgufFile g = read_gguf(out);
  EXPECT_EQ(g.find("llama.rope.scaling.type"), nullptr);
  const TensorInfo* freqs = nullptr;
  for (const TensorInfo& t : g.tensors)
    if (t.name == "rope_freqs.weight") freqs = &t;
  ASSERT_NE(freqs, nullptr);
  EXPECT_EQ(freqs->dtype, DType::F32);
  ASSERT_EQ(freqs->shape, (std::vector<int64_t>{8}));
  EXPECT_EQ(std::memcmp(freqs->data, f.data(), 32), 0);

  // Loaded back, the factors give the inverse frequencies that the config's
  // scaling gives (kernels' rope_scale_llama3), and the same logits.
  Checkpoint back = load_gguf_checkpoint(out);
  auto wa = build_weights(src);
  auto wb = build_weights(back);
  ASSERT_EQ(wa->rope_inv_freq.size(), wb->rope_inv_freq.size());
  for (size_t j = 0; j < wa->rope_inv_freq.size(); ++j)
    EXPECT_NEAR(wb->rope_inv_freq[j], wa->rope_inv_freq[j], 1e-6 * wa->rope_inv_freq[j]) << j;
  std::vector<int32_t> tokens(200);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<int32_t>((i * 37 + 1) % 512);
  const std::vector<float> a = logits_of(src, tokens), b = logits_of(back, tokens);
  double max_diff = 0.0;
  for (size_t i = 0; i < a.size(); ++i) max_diff = std::max(max_diff, static_cast<double>(std::fabs(a[i] - b[i])));
  EXPECT_LT(max_diff, 1e-4);

  // The written file loads again and writes the same tensor back (rope_freqs
  // now comes from the file, not the config).
  const std::string again = temp("random_llama3.again.gguf");
  save_gguf(back, again, DType::F32);
  GgufFile g2 = read_gguf(again);
  ASSERT_EQ(g2.tensors.size(), g.tensors.size());
  for (size_t k = 0; k < g.tensors.size(); ++k) expect_same_bytes(g2.tensors[k], g.tensors[k], g.tensors[k].name);
}

TEST(SaveGguf, KeyLengthWhenHeadDimIsNotDimOverHeads) {
  LMPACK_REQUIRE_SHARED();
  RandomModelSpec spec;
  ModelConfig& c = spec.config;
  c.dim = 32;
  c.hidden_dim = 64;
  c.n_layers = 1;
  c.n_heads = 2;
  c.n_kv_heads = 1;
  c.head_dim = 32;  // q_dim 64 != dim 32
  c.vocab_size = 512;
  c.context_length = 64;
  const std::string dir = temp("random_headdim");
  write_random_model(spec, dir);
  LoadOptions o;
  o.tokenizer_path = stories("tok512.bin");
  Checkpoint src = load_checkpoint(dir, o);
  const std::string out = temp("random_headdim.gguf");
  save_gguf(src, out, DType::F16);
  GgufFile g = read_gguf(out);
  EXPECT_EQ(g.get_int("llama.attention.key_length"), 32);
  EXPECT_EQ(g.get_int("llama.attention.value_length"), 32);
  EXPECT_EQ(g.get_int("llama.rope.dimension_count"), 32);
  Checkpoint back = load_gguf_checkpoint(out);
  expect_same_config(back.config, src.config);
}

TEST(SaveGguf, FileTypeNumbersAreLlamaCpps) {
  EXPECT_EQ(llama_ftype_of(DType::F32), 0u);
  EXPECT_EQ(llama_ftype_of(DType::F16), 1u);
  EXPECT_EQ(llama_ftype_of(DType::Q4_0), 2u);
  EXPECT_EQ(llama_ftype_of(DType::Q4_1), 3u);
  EXPECT_EQ(llama_ftype_of(DType::Q8_0), 7u);
  EXPECT_EQ(llama_ftype_of(DType::Q5_0), 8u);
  EXPECT_EQ(llama_ftype_of(DType::Q5_1), 9u);
  EXPECT_EQ(llama_ftype_of(DType::Q6_K), 18u);
  EXPECT_EQ(llama_ftype_of(DType::IQ4_NL), 25u);
  EXPECT_EQ(llama_ftype_of(DType::BF16), 32u);
  EXPECT_THROW(llama_ftype_of(DType::Q4_K), Error);
  EXPECT_EQ(llama_ftype::kQ4_K_M, 15u);
  EXPECT_EQ(llama_ftype::kQ2_K, 10u);
}

}  // namespace
}  // namespace lmpack
