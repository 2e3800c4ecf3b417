// The forward passes: fast vs reference on the real stories260K, the KV cache
// (chunked == one shot), greedy generation against the continuations in
// shared/DATA.md, and a random in-memory model with GQA, Qwen2-style biases,
// head_dim apart from dim / n_heads, llama3 RoPE scaling and F16 weights.
#include "runtime/forward.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "core/dtype.h"
#include "core/error.h"
#include "kernels/ops.h"
#include "model/checkpoint.h"
#include "runtime/generate.h"
#include "test_paths.h"
#include "tokenizer/tokenizer.h"

namespace lmpack {
namespace {

std::string stories_bin() { return testing::shared_path("models/stories260K/stories260K.bin"); }
std::string tok512() { return testing::shared_path("models/stories260K/tok512.bin"); }

std::vector<int32_t> random_tokens(int64_t n, int64_t vocab, uint32_t seed) {
  std::mt19937 gen(seed);
  std::vector<int32_t> t(n);
  for (auto& v : t) v = static_cast<int32_t>(gen() % vocab);
  t[0] = 1;  // BOS
  return t;
}

std::vector<float> run(ForwardPass& f, const std::vector<int32_t>& tokens) {
  std::vector<float> logits(tokens.size() * f.config().vocab_size);
  f.reset();
  f.forward(tokens.data(), static_cast<int64_t>(tokens.size()), logits.data());
  return logits;
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

TEST(Forward, FastMatchesReferenceOnStories260K) {
  LMPACK_REQUIRE_SHARED();
  auto w = build_weights(load_checkpoint(stories_bin()));
  auto ref = make_reference_forward(w), fast = make_fast_forward(w);
  EXPECT_EQ(fast->max_context(), 512);
  const auto tokens = random_tokens(100, 512, 7);
  const auto a = run(*ref, tokens), b = run(*fast, tokens);
  float max_logit = 0;
  for (float v : a) max_logit = std::max(max_logit, std::fabs(v));
  EXPECT_GT(max_logit, 1.0f);  // real logits, not zeros
  EXPECT_LT(max_abs_diff(a, b), 1e-4f);
  EXPECT_EQ(fast->pos(), 100);
}

TEST(Forward, KvCacheChunksEqualOneShot) {
  LMPACK_REQUIRE_SHARED();
  auto w = build_weights(load_checkpoint(stories_bin()));
  const auto tokens = random_tokens(300, 512, 11);
  for (int variant = 0; variant < 2; ++variant) {
    auto f = variant == 0 ? make_fast_forward(w) : make_reference_forward(w);
    const auto whole = run(*f, tokens);
    f->reset();
    std::vector<float> pieces(whole.size());
    int64_t done = 0;
    for (int64_t chunk : {1, 7, 32, 1, 60, 199}) {
      f->forward(tokens.data() + done, chunk, pieces.data() + done * 512);
      done += chunk;
      EXPECT_EQ(f->pos(), done);
    }
    ASSERT_EQ(done, 300);
    EXPECT_LT(max_abs_diff(whole, pieces), 1e-4f) << "variant " << variant;
    // last_only writes the last row only.
    f->reset();
    std::vector<float> last(512);
    f->forward(tokens.data(), 300, last.data(), /*last_only=*/true);
    for (int64_t j = 0; j < 512; ++j) ASSERT_NEAR(last[j], whole[299 * 512 + j], 1e-4f);
  }
}

TEST(Forward, ContextAndTokenErrors) {
  LMPACK_REQUIRE_SHARED();
  auto w = build_weights(load_checkpoint(stories_bin()));
  auto f = make_fast_forward(w, 16);
  EXPECT_EQ(f->max_context(), 16);
  const auto tokens = random_tokens(17, 512, 3);
  std::vector<float> logits(17 * 512);
  try {
    f->forward(tokens.data(), 17, logits.data());
    FAIL() << "expected a context error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "context: position 17 exceeds the context of 16 tokens");
  }
  EXPECT_EQ(f->pos(), 0);
  const int32_t bad[] = {1, 512};
  EXPECT_THROW(f->forward(bad, 2, logits.data()), Error);
  const int32_t negative[] = {-1};
  EXPECT_THROW(make_reference_forward(w, 4)->forward(negative, 1, logits.data()), Error);
}

TEST(Forward, LongContextCacheIsReservedLazily) {
  LMPACK_REQUIRE_SHARED();
  auto w = build_weights(load_checkpoint(stories_bin()));
  // 2^20 positions: 1.3 GB of KV cache per pass, reserved but never touched
  // beyond the positions used.
  auto fast = make_fast_forward(w, int64_t{1} << 20), ref = make_reference_forward(w, int64_t{1} << 20);
  EXPECT_EQ(fast->max_context(), int64_t{1} << 20);
  const auto tokens = random_tokens(20, 512, 4);
  EXPECT_LT(max_abs_diff(run(*fast, tokens), run(*make_fast_forward(w), tokens)), 1e-5f);
  EXPECT_LT(max_abs_diff(run(*ref, tokens), run(*make_reference_forward(w), tokens)), 1e-6f);
}

TEST(Forward, ContextBeyondTheLimitIsAnErrorNotAnOverflow) {
  LMPACK_REQUIRE_SHARED();
  auto w = build_weights(load_checkpoint(stories_bin()));
  for (int64_t ctx : {kMaxContextLength + 1, int64_t{1} << 40, (int64_t{1} << 62) + 1}) {
    EXPECT_THROW(make_fast_forward(w, ctx), Error) << ctx;
    EXPECT_THROW(make_reference_forward(w, ctx), Error) << ctx;
  }
}

TEST(Generate, ContextCoversThePromptAndTheNewTokens) {
  ModelConfig c;
  c.context_length = 512;
  EXPECT_EQ(generation_context(c, 5, 64), 69);
  EXPECT_EQ(generation_context(c, 500, 64), 512);  // at most the model's
  EXPECT_EQ(generation_context(c, 0, 0), 1);
  EXPECT_EQ(generation_context(c, 5, INT64_MAX), 512);  // no overflow
  c.context_length = kMaxContextLength;
  EXPECT_EQ(generation_context(c, 4, 5), 9);  // not 2^24 positions of KV cache and RoPE tables
}

std::string greedy(const std::string& model, const std::string& prompt, int64_t n, bool fast = true) {
  LoadOptions options;
  options.tokenizer_path = tok512();
  Checkpoint c = load_checkpoint(model, options);
  EXPECT_TRUE(c.vocab.has_value());
  auto tokenizer = make_tokenizer(*c.vocab, tok512());
  auto f = fast ? make_fast_forward(build_weights(c)) : make_reference_forward(build_weights(c));
  GenerateOptions g;
  g.max_new_tokens = n;
  std::string text;
  GenerateStats stats = generate(*f, *tokenizer, prompt, g, [&](std::string_view piece) { text += piece; });
  EXPECT_EQ(stats.prompt_tokens + stats.generated_tokens, static_cast<int64_t>(stats.tokens.size()));
  EXPECT_GT(stats.generated_tokens, 0);
  return text;
}

TEST(Forward, GreedyStories260KMatchesDataMd) {
  LMPACK_REQUIRE_SHARED();
  const std::string expected =
      ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red "
      "ball.";
  const std::string fast = greedy(stories_bin(), "Once upon a time", 40);
  EXPECT_EQ(fast.substr(0, expected.size()), expected) << fast;
  const std::string ref = greedy(stories_bin(), "Once upon a time", 40, /*fast=*/false);
  EXPECT_EQ(ref, fast);
}

TEST(Forward, GreedyTsLlamaMatchesDataMd) {
  LMPACK_REQUIRE_SHARED();
  const std::string expected =
      ", there was a little girl named Lily. She loved to play outside in her backyard, but she was very curious. "
      "One day, she saw a big tree with a lot of windows";
  const std::string text = greedy(testing::shared_path("models/ts-llama-4.9M/ts-llama-4.9M.bin"), "Once upon a time", 70);
  EXPECT_EQ(text.substr(0, expected.size()), expected) << text;
}

TEST(Forward, GenerateTokensSameForBothPassesAndSeeded) {
  LMPACK_REQUIRE_SHARED();
  auto w = build_weights(load_checkpoint(stories_bin()));
  auto ref = make_reference_forward(w), fast = make_fast_forward(w);
  const std::vector<int32_t> prompt = {1, 403, 407, 261};
  GenerateOptions g;
  g.max_new_tokens = 30;
  g.stop_at_eos = false;
  const auto a = generate_tokens(*ref, prompt, g, 2, 1).tokens;
  const auto b = generate_tokens(*fast, prompt, g, 2, 1).tokens;
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.size(), 34u);
  // Sampling: the same seed gives the same tokens, another seed other tokens.
  g.temperature = 1.0f;
  g.top_p = 0.9f;
  g.seed = 5;
  const auto s1 = generate_tokens(*fast, prompt, g, 2, 1).tokens;
  const auto s2 = generate_tokens(*fast, prompt, g, 2, 1).tokens;
  g.seed = 6;
  const auto s3 = generate_tokens(*fast, prompt, g, 2, 1).tokens;
  EXPECT_EQ(s1, s2);
  EXPECT_NE(s1, s3);
  // Generation stops at the end of the context.
  auto small = make_fast_forward(w, 10);
  g.max_new_tokens = 100;
  const auto capped = generate_tokens(*small, prompt, g, 2, 1);
  EXPECT_EQ(small->pos(), 10);
  EXPECT_EQ(capped.generated_tokens, 7);
}

TEST(Forward, BinGgufAndHfGiveTheSameLogits) {
  LMPACK_REQUIRE_SHARED();
  const auto tokens = random_tokens(64, 512, 13);
  auto logits_of = [&](const std::string& path) {
    auto f = make_fast_forward(build_weights(load_checkpoint(path)), 512);
    return run(*f, tokens);
  };
  const auto bin = logits_of(stories_bin());
  // The GGUF holds the same bits (with an untied copy of the output).
  EXPECT_LT(max_abs_diff(bin, logits_of(testing::shared_path("models/stories260K/stories260K.gguf"))), 1e-5f);
  // The HF folder rotates halves; its loader permutes q/k back to pairs.
  EXPECT_LT(max_abs_diff(bin, logits_of(testing::shared_path("models/stories260K-hf"))), 1e-4f);
}

// ---- A random model built in memory -------------------------------------

struct RandomModel {
  Checkpoint checkpoint;
  // Adds a tensor of random values (norm weights near 1) as F32 or F16.
  void add(const std::string& name, std::vector<int64_t> shape, std::mt19937& gen, float scale, float center,
           DType dtype) {
    TensorInfo t;
    t.name = name;
    t.dtype = dtype;
    t.shape = std::move(shape);
    const int64_t n = t.n_elements();
    std::normal_distribution<float> dist(center, scale);
    if (dtype == DType::F32) {
      auto buf = std::make_shared<std::vector<float>>(n);
      for (float& v : *buf) v = dist(gen);
      t.data = reinterpret_cast<const uint8_t*>(buf->data());
      t.nbytes = n * 4;
      checkpoint.keep_alive.push_back(buf);
    } else {
      auto buf = std::make_shared<std::vector<uint16_t>>(n);
      for (uint16_t& v : *buf) v = f32_to_fp16(dist(gen));
      t.data = reinterpret_cast<const uint8_t*>(buf->data());
      t.nbytes = n * 2;
      checkpoint.keep_alive.push_back(buf);
    }
    checkpoint.tensors[name] = t;
  }
};

// GQA 6:2, head_dim 6 with dim 20 (q_dim 36 != dim), odd FFN, biases,
// separate output, llama3 scaling, context 300 (> one 256-row chunk).
Checkpoint random_checkpoint(DType matrix_type, bool llama3) {
  RandomModel m;
  ModelConfig& c = m.checkpoint.config;
  c.architecture = "qwen2";
  c.dim = 20;
  c.hidden_dim = 37;
  c.n_layers = 3;
  c.n_heads = 6;
  c.n_kv_heads = 2;
  c.head_dim = 6;
  c.vocab_size = 50;
  c.context_length = 300;
  c.rms_eps = 1e-6f;
  c.rope_theta = 1000.0f;
  c.attn_qkv_bias = true;
  c.tied_embeddings = false;
  if (llama3) {
    c.rope_scaling.type = RopeScaling::Type::kLlama3;
    c.rope_scaling.factor = 8.0f;
    c.rope_scaling.low_freq_factor = 1.0f;
    c.rope_scaling.high_freq_factor = 4.0f;
    c.rope_scaling.original_max_position = 64;  // puts theta 1000's pairs into all three bands
  }
  m.checkpoint.path = "random";
  m.checkpoint.format = "test";
  std::mt19937 gen(99);
  const float s = 0.3f;
  m.add("token_embd.weight", {c.vocab_size, c.dim}, gen, 1.0f, 0, matrix_type);
  m.add("output_norm.weight", {c.dim}, gen, 0.1f, 1, DType::F32);
  m.add("output.weight", {c.vocab_size, c.dim}, gen, s, 0, matrix_type);
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    m.add(p + "attn_norm.weight", {c.dim}, gen, 0.1f, 1, DType::F32);
    m.add(p + "attn_q.weight", {c.q_dim(), c.dim}, gen, s, 0, matrix_type);
    m.add(p + "attn_k.weight", {c.kv_dim(), c.dim}, gen, s, 0, matrix_type);
    m.add(p + "attn_v.weight", {c.kv_dim(), c.dim}, gen, s, 0, matrix_type);
    m.add(p + "attn_q.bias", {c.q_dim()}, gen, s, 0, DType::F32);
    m.add(p + "attn_k.bias", {c.kv_dim()}, gen, s, 0, DType::F32);
    m.add(p + "attn_v.bias", {c.kv_dim()}, gen, s, 0, DType::F32);
    m.add(p + "attn_output.weight", {c.dim, c.q_dim()}, gen, s, 0, matrix_type);
    m.add(p + "ffn_norm.weight", {c.dim}, gen, 0.1f, 1, DType::F32);
    m.add(p + "ffn_gate.weight", {c.hidden_dim, c.dim}, gen, s, 0, matrix_type);
    m.add(p + "ffn_up.weight", {c.hidden_dim, c.dim}, gen, s, 0, matrix_type);
    m.add(p + "ffn_down.weight", {c.dim, c.hidden_dim}, gen, s, 0, matrix_type);
  }
  return m.checkpoint;
}

TEST(Forward, RandomGqaBiasLlama3FastEqualsReference) {
  const Checkpoint c = random_checkpoint(DType::F32, /*llama3=*/true);
  auto w = build_weights(c);
  const auto tokens = random_tokens(290, 50, 21);
  auto ref = make_reference_forward(w), fast = make_fast_forward(w);
  const auto a = run(*ref, tokens), b = run(*fast, tokens);
  float max_logit = 0;
  for (float v : a) max_logit = std::max(max_logit, std::fabs(v));
  EXPECT_GT(max_logit, 0.5f);
  EXPECT_LT(max_abs_diff(a, b), 1e-5f * std::max(1.0f, max_logit));

  // The scaling matters: without it the logits differ at long distances.
  const Checkpoint plain = random_checkpoint(DType::F32, /*llama3=*/false);
  auto unscaled = make_fast_forward(build_weights(plain));
  EXPECT_GT(max_abs_diff(run(*unscaled, tokens), b), 1e-3f);

  // GGUF spells llama3 scaling as rope_freqs.weight divisors: the same logits.
  Checkpoint with_freqs = plain;
  const int64_t half = 3;
  auto divisors = std::make_shared<std::vector<float>>(half);
  std::vector<float> base(half), scaled(half);
  rope_inv_freq(base.data(), 6, 1000.0f);
  scaled = base;
  rope_scale_llama3(scaled.data(), half, 8.0f, 1.0f, 4.0f, 64);
  for (int64_t j = 0; j < half; ++j) (*divisors)[j] = base[j] / scaled[j];
  EXPECT_EQ((*divisors)[0], 1.0f);   // high frequency kept
  EXPECT_GT((*divisors)[2], 1.0f);   // low frequencies slowed
  TensorInfo t;
  t.name = "rope_freqs.weight";
  t.shape = {half};
  t.data = reinterpret_cast<const uint8_t*>(divisors->data());
  t.nbytes = half * 4;
  with_freqs.tensors[t.name] = t;
  with_freqs.keep_alive.push_back(divisors);
  auto via_freqs = make_reference_forward(build_weights(with_freqs));
  EXPECT_LT(max_abs_diff(run(*via_freqs, tokens), a), 1e-4f);
}

TEST(Forward, F16WeightsRunInPlace) {
  const Checkpoint c16 = random_checkpoint(DType::F16, true);
  // The same model in F32, holding the F16-rounded values.
  Checkpoint c32 = c16;
  for (auto& [name, t] : c32.tensors) {
    if (t.dtype != DType::F16) continue;
    auto buf = std::make_shared<std::vector<float>>(t.n_elements());
    const auto* h = reinterpret_cast<const uint16_t*>(t.data);
    for (int64_t i = 0; i < t.n_elements(); ++i) (*buf)[i] = fp16_to_f32(h[i]);
    t.dtype = DType::F32;
    t.data = reinterpret_cast<const uint8_t*>(buf->data());
    t.nbytes = buf->size() * 4;
    c32.keep_alive.push_back(buf);
  }
  auto w16 = build_weights(c16);
  // F16 matrices stay in the mapping (qmatmul_xwt runs them in place).
  EXPECT_EQ(w16->layers[0].wq.type, DType::F16);
  EXPECT_EQ(w16->owned_bytes(), 0u);
  const auto tokens = random_tokens(40, 50, 5);
  auto f16 = make_fast_forward(w16), f32 = make_fast_forward(build_weights(c32));
  // Same values, different float summation orders (F16 dot kernels vs
  // sgemm, which differ again per ISA): agreement to float noise.
  EXPECT_LT(max_abs_diff(run(*f16, tokens), run(*f32, tokens)), 1e-4f);
}

TEST(Forward, TiedOutputIsTheEmbedding) {
  LMPACK_REQUIRE_SHARED();
  auto w = build_weights(load_checkpoint(stories_bin()));
  EXPECT_EQ(w->output, w->token_embd);
  EXPECT_TRUE(w->owned.empty());  // every F32 tensor used in place
  EXPECT_EQ(w->layers.size(), 5u);
  EXPECT_EQ(w->layers[0].bq, nullptr);
  ASSERT_EQ(w->rope_inv_freq.size(), 4u);
  EXPECT_FLOAT_EQ(w->rope_inv_freq[1], 0.1f);  // 10000^(-2/8)
}

}  // namespace
}  // namespace lmpack
