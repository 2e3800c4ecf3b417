// Structured pruning (pipeline/structured_prune.h) on stories260K (GQA 8/4)
// and random models (MHA, and GQA 8/2 with Qwen2 biases): the pruned model's
// logits equal those of the original with the removed parts zeroed (heads:
// attn_output's columns; channels: ffn_down's columns; blocks: attn_output and
// ffn_down), the result validates and round-trips through save_gguf/save_hf,
// parameter counts follow the shapes, the scores are what the header says
// (checked against the fast forward's observer, and planted dead parts are
// found first), they are deterministic, and bad options are refused by name.
#include "pipeline/structured_prune.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <random>

#include "core/error.h"
#include "core/parallel.h"
#include "eval/calibration.h"
#include "formats/decode.h"
#include "model/random_model.h"
#include "model/save_gguf.h"
#include "model/save_hf.h"
#include "model/tensor_names.h"
#include "pipeline_test_models.h"
#include "runtime/forward.h"
#include "runtime/weights.h"
#include "test_paths.h"
#include "tokenizer/tokenizer.h"

namespace lmpack {
namespace {

constexpr float kMaskedTolerance = 1e-4f;

using testing::load_stories260k;

// Calibration windows of TinyStories text (seed 7).
std::vector<std::vector<int32_t>> story_windows(const Checkpoint& c, int64_t samples, int64_t ctx) {
  return testing::story_windows(c, samples, ctx, 7);
}

std::vector<std::vector<int32_t>> random_windows(int64_t n, int64_t ctx, int64_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::vector<int32_t>> w(static_cast<size_t>(n), std::vector<int32_t>(static_cast<size_t>(ctx)));
  for (auto& win : w)
    for (int32_t& t : win) t = static_cast<int32_t>(rng() % static_cast<uint32_t>(vocab));
  return w;
}

// A random model; matrices scaled by `gain` so that every part moves the logits visibly.
Checkpoint random_model(const std::string& name, int64_t n_kv_heads, bool qwen2) {
  RandomModelSpec spec;
  ModelConfig& cfg = spec.config;
  cfg.architecture = qwen2 ? "qwen2" : "llama";
  cfg.attn_qkv_bias = qwen2;
  cfg.dim = 64;
  cfg.hidden_dim = 96;
  cfg.n_layers = 4;
  cfg.n_heads = 8;
  cfg.n_kv_heads = n_kv_heads;
  cfg.head_dim = 8;
  cfg.vocab_size = 128;
  cfg.context_length = 64;
  spec.seed = 11;
  const std::string dir = testing::temp_dir() + "/" + name;
  write_random_model(spec, dir);
  return load_checkpoint(dir);
}

// Every tensor decoded to F32 in buffers `edit` may change before the copy is used.
using Editor = std::function<void(const std::string& name, const TensorInfo& t, std::vector<float>& v)>;
Checkpoint edited_copy(const Checkpoint& c, const Editor& edit) {
  Checkpoint out = c;
  for (const auto& [name, t] : c.tensors) {
    std::vector<float> v(static_cast<size_t>(t.n_elements()));
    decode_to_f32(v.data(), t.data, t.dtype, t.n_elements());
    edit(name, t, v);
    out.set_f32(name, t.shape, std::move(v));
  }
  return out;
}

// Random models have weights of std 0.02; scaling the matrices makes each head,
// channel and block matter, so that a wrong cut shows in the logits.
Checkpoint loud(const Checkpoint& c) {
  return edited_copy(c, [](const std::string& name, const TensorInfo& t, std::vector<float>& v) {
    if (t.shape.size() == 2 && name != "token_embd.weight" && name != "output.weight")
      for (float& x : v) x *= 12.0f;
  });
}

void zero_cols(std::vector<float>& v, int64_t rows, int64_t cols, int64_t c0, int64_t n) {
  for (int64_t r = 0; r < rows; ++r) std::fill_n(v.begin() + r * cols + c0, n, 0.0f);
}

// The original with what the report says was removed set to zero.
Checkpoint masked(const Checkpoint& c, const StructuredPruneReport& r) {
  const ModelConfig& cfg = c.config;
  return edited_copy(c, [&](const std::string& name, const TensorInfo&, std::vector<float>& v) {
    int64_t l = 0;
    std::string rest;
    if (!split_block(name, &l, &rest)) return;
    const bool dropped = std::count(r.dropped_blocks.begin(), r.dropped_blocks.end(), l) > 0;
    if (rest == "attn_output.weight") {
      if (dropped) std::fill(v.begin(), v.end(), 0.0f);
      for (int64_t h : r.removed_heads[l]) zero_cols(v, cfg.dim, cfg.q_dim(), h * cfg.head_dim, cfg.head_dim);
    } else if (rest == "ffn_down.weight") {
      if (dropped) std::fill(v.begin(), v.end(), 0.0f);
      for (int64_t j : r.removed_channels[l]) zero_cols(v, cfg.dim, cfg.hidden_dim, j, 1);
    }
  });
}

std::vector<float> decoded(const TensorInfo& t) {
  std::vector<float> v(static_cast<size_t>(t.n_elements()));
  decode_to_f32(v.data(), t.data, t.dtype, t.n_elements());
  return v;
}

std::vector<float> logits_of(const Checkpoint& c, const std::vector<int32_t>& tokens) {
  auto f = make_fast_forward(build_weights(c), static_cast<int64_t>(tokens.size()));
  std::vector<float> logits(tokens.size() * static_cast<size_t>(c.config.vocab_size));
  f->forward(tokens.data(), static_cast<int64_t>(tokens.size()), logits.data());
  return logits;
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float m = 0.0f;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

// Parameters a Llama-family model of this config holds (norms, biases, rope_freqs included).
int64_t expected_parameters(const ModelConfig& c, bool rope_freqs) {
  const int64_t d = c.dim, q = c.q_dim(), kv = c.kv_dim(), f = c.hidden_dim;
  int64_t block = 2 * d + q * d + 2 * kv * d + d * q + 3 * f * d;
  if (c.attn_qkv_bias) block += q + 2 * kv;
  return c.vocab_size * d * (c.tied_embeddings ? 1 : 2) + d + c.n_layers * block + (rope_freqs ? c.head_dim / 2 : 0);
}

// Prunes with `o`, checks the result against the masked original on `probe`
// and that the cut really changed the model; returns the result.
StructuredPruneResult prune_and_check_masked(const Checkpoint& c, const std::vector<std::vector<int32_t>>& windows,
                                             const StructuredPruneOptions& o, const std::vector<int32_t>& probe) {
  StructuredPruneResult r = structured_prune(c, windows, o);
  const std::vector<float> pruned = logits_of(r.checkpoint, probe);
  const std::vector<float> reference = logits_of(masked(c, r.report), probe);
  const std::vector<float> original = logits_of(c, probe);
  const std::string what = cat("heads ", o.heads, " ffn-width ", o.ffn_width, " drop-blocks ", o.drop_blocks);
  EXPECT_LE(max_abs_diff(pruned, reference), kMaskedTolerance) << what;
  EXPECT_GT(max_abs_diff(pruned, original), 100 * kMaskedTolerance) << what << ": the cut changed nothing";
  const ModelConfig& a = c.config;
  const ModelConfig& b = r.checkpoint.config;
  EXPECT_EQ(b.n_layers, a.n_layers - o.drop_blocks) << what;
  EXPECT_EQ(b.n_heads, a.n_heads - o.heads) << what;
  EXPECT_EQ(b.n_heads * a.n_kv_heads, b.n_kv_heads * a.n_heads) << what << ": GQA ratio kept";
  EXPECT_EQ(b.hidden_dim, o.ffn_width == 0 ? a.hidden_dim : o.ffn_width) << what;
  EXPECT_EQ(r.checkpoint.parameter_count(), expected_parameters(b, c.find("rope_freqs.weight") != nullptr)) << what;
  EXPECT_EQ(r.report.parameters_after, r.checkpoint.parameter_count());
  EXPECT_EQ(r.report.parameters_before, c.parameter_count());
  for (int64_t l = 0; l < a.n_layers; ++l) {
    EXPECT_EQ(static_cast<int64_t>(r.report.removed_heads[l].size()), o.heads);
    EXPECT_EQ(static_cast<int64_t>(r.report.removed_channels[l].size()),
              o.ffn_width == 0 ? 0 : a.hidden_dim - o.ffn_width);
  }
  EXPECT_EQ(static_cast<int64_t>(r.report.dropped_blocks.size()), o.drop_blocks);
  return r;
}

void expect_masked_equivalence(const Checkpoint& c, const std::vector<std::vector<int32_t>>& windows,
                               int64_t heads, int64_t width, int64_t drop, const std::vector<int32_t>& probe) {
  prune_and_check_masked(c, windows, {heads, 0, 0}, probe);
  prune_and_check_masked(c, windows, {0, width, 0}, probe);
  prune_and_check_masked(c, windows, {0, 0, drop}, probe);
  prune_and_check_masked(c, windows, {heads, width, drop}, probe);
}

TEST(StructuredPrune, MaskedEquivalenceOnARandomModelWithoutGqa) {
  set_num_threads(2);
  const Checkpoint c = loud(random_model("sp-mha", 8, false));
  const auto windows = random_windows(6, 24, c.config.vocab_size, 3);
  expect_masked_equivalence(c, windows, 3, 64, 1, random_windows(1, 40, c.config.vocab_size, 4)[0]);
}

TEST(StructuredPrune, MaskedEquivalenceOnARandomGqaQwen2Model) {
  set_num_threads(2);
  const Checkpoint c = loud(random_model("sp-gqa", 2, true));
  const auto windows = random_windows(6, 24, c.config.vocab_size, 5);
  expect_masked_equivalence(c, windows, 4, 50, 2, random_windows(1, 40, c.config.vocab_size, 6)[0]);
}

TEST(StructuredPrune, MaskedEquivalenceOnStories260K) {
  LMPACK_REQUIRE_SHARED();
  set_num_threads(2);
  const Checkpoint c = load_stories260k();
  const auto windows = story_windows(c, 8, 64);
  const auto probe = story_windows(c, 1, 96)[0];
  // 2 of 8 heads (one GQA group of 2), 25% of 172 FFN channels, 1 of 5 blocks.
  expect_masked_equivalence(c, windows, 2, 129, 1, probe);
}

TEST(StructuredPrune, PrunedStoriesRoundTripsThroughGgufAndHf) {
  LMPACK_REQUIRE_SHARED();
  set_num_threads(2);
  const Checkpoint c = load_stories260k();
  const auto probe = story_windows(c, 1, 64)[0];
  const StructuredPruneResult r = structured_prune(c, story_windows(c, 8, 64), {2, 129, 1});
  const Checkpoint& p = r.checkpoint;
  EXPECT_EQ(p.config.n_heads, 6);
  EXPECT_EQ(p.config.n_kv_heads, 3);
  EXPECT_EQ(p.config.hidden_dim, 129);
  EXPECT_EQ(p.config.n_layers, 4);
  EXPECT_EQ(p.parameter_count(), expected_parameters(p.config, false));
  EXPECT_LT(p.parameter_count(), c.parameter_count());
  const std::vector<float> want = logits_of(p, probe);

  const std::string gguf = testing::temp_dir() + "/sp-stories.gguf";
  save_gguf(p, gguf, DType::F32);
  const Checkpoint g = load_checkpoint(gguf);
  EXPECT_EQ(g.config.n_heads, 6);
  EXPECT_EQ(g.config.head_dim, 8);
  EXPECT_EQ(g.config.n_layers, 4);
  EXPECT_EQ(g.parameter_count(), p.parameter_count());
  EXPECT_EQ(max_abs_diff(logits_of(g, probe), want), 0.0f);

  const std::string hf = testing::temp_dir() + "/sp-stories-hf";
  save_hf(p, hf, DType::F32);
  const Checkpoint h = load_checkpoint(hf);
  EXPECT_EQ(h.config.n_kv_heads, 3);
  EXPECT_EQ(h.config.hidden_dim, 129);
  EXPECT_EQ(max_abs_diff(logits_of(h, probe), want), 0.0f);
}

// Tensors that lose nothing stay views of the input: dropping a block copies
// no tensor, and a heads-only cut leaves the FFN matrices in the mapping.
TEST(StructuredPrune, UncutTensorsStayViewsOfTheInput) {
  LMPACK_REQUIRE_SHARED();
  const Checkpoint c = load_stories260k();
  const auto windows = story_windows(c, 4, 64);
  const StructuredPruneResult drop = structured_prune(c, windows, {0, 0, 1});
  ASSERT_EQ(drop.report.dropped_blocks.size(), 1u);
  const int64_t gone = drop.report.dropped_blocks[0];
  for (const auto& [name, t] : drop.checkpoint.tensors) {
    std::string source = name, rest;
    int64_t layer = 0;
    if (split_block(name, &layer, &rest) && layer >= gone) source = cat("blk.", layer + 1, ".", rest);
    EXPECT_EQ(t.data, c.tensor(source).data) << name << " should be a view of " << source;
  }
  const StructuredPruneResult heads = structured_prune(c, windows, {2, 0, 0});
  EXPECT_EQ(heads.checkpoint.tensor("blk.0.ffn_down.weight").data, c.tensor("blk.0.ffn_down.weight").data);
  EXPECT_NE(heads.checkpoint.tensor("blk.0.attn_q.weight").data, c.tensor("blk.0.attn_q.weight").data);
  EXPECT_EQ(heads.checkpoint.tensor("blk.0.attn_q.weight").dtype, DType::F32);
}

TEST(StructuredPrune, PrunedQwen2RoundTripsThroughHf) {
  set_num_threads(2);
  const Checkpoint c = loud(random_model("sp-qwen-rt", 2, true));
  const StructuredPruneResult r = structured_prune(c, random_windows(4, 16, 128, 8), {4, 40, 1});
  const auto probe = random_windows(1, 32, 128, 9)[0];
  const std::string hf = testing::temp_dir() + "/sp-qwen-hf";
  save_hf(r.checkpoint, hf, DType::F32);
  const Checkpoint h = load_checkpoint(hf);
  EXPECT_EQ(h.config.n_heads, 4);
  EXPECT_EQ(h.config.n_kv_heads, 1);
  EXPECT_EQ(h.config.head_dim, 8);
  EXPECT_TRUE(h.config.attn_qkv_bias);
  EXPECT_EQ(h.parameter_count(), expected_parameters(h.config, false));
  EXPECT_EQ(max_abs_diff(logits_of(h, probe), logits_of(r.checkpoint, probe)), 0.0f);
}

// Head and channel scores recomputed from what the fast forward's observer sees.
struct ScoreObserver : LinearInputObserver {
  const ModelConfig& c;
  std::vector<std::vector<double>> heads, ffn;
  int64_t tokens = 0;
  explicit ScoreObserver(const ModelConfig& cfg)
      : c(cfg),
        heads(cfg.n_layers, std::vector<double>(cfg.n_heads, 0.0)),
        ffn(cfg.n_layers, std::vector<double>(cfg.hidden_dim, 0.0)) {}
  void observe(const std::string& name, const float* x, int64_t m, int64_t cols) override {
    int64_t l = 0;
    std::string rest;
    if (!split_block(name, &l, &rest)) return;
    if (rest == "attn_output.weight") {
      if (l == 0) tokens += m;
      for (int64_t t = 0; t < m; ++t)
        for (int64_t h = 0; h < c.n_heads; ++h) {
          double sq = 0.0;
          for (int64_t i = 0; i < c.head_dim; ++i) sq += std::pow(x[t * cols + h * c.head_dim + i], 2);
          heads[l][h] += std::sqrt(sq);
        }
    } else if (rest == "ffn_down.weight") {
      for (int64_t t = 0; t < m; ++t)
        for (int64_t j = 0; j < cols; ++j) ffn[l][j] += std::fabs(x[t * cols + j]);
    }
  }
};

void expect_close(const std::vector<double>& got, const std::vector<double>& want, double rel, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 0.0;
  for (double w : want) scale = std::max(scale, std::fabs(w));
  ASSERT_GT(scale, 0.0) << what;
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], rel * scale) << what << "[" << i << "]";
}

TEST(StructuredPrune, ScoresAreTheFastForwardsActivationsAndDeterministic) {
  LMPACK_REQUIRE_SHARED();
  set_num_threads(2);
  const Checkpoint c = load_stories260k();
  const auto windows = story_windows(c, 6, 48);
  const StructuredScores s = structured_scores(c, windows);
  const StructuredScores again = structured_scores(c, windows);
  EXPECT_EQ(s.heads, again.heads);
  EXPECT_EQ(s.ffn, again.ffn);
  EXPECT_EQ(s.blocks, again.blocks);
  EXPECT_EQ(s.tokens, 6 * 48);

  ScoreObserver obs(c.config);
  auto f = make_fast_forward(build_weights(c), 48);
  f->set_observer(&obs);
  std::vector<float> logits(48 * static_cast<size_t>(c.config.vocab_size));
  for (const auto& w : windows) {
    f->reset();
    f->forward(w.data(), 48, logits.data());
  }
  ASSERT_EQ(obs.tokens, s.tokens);
  for (int64_t l = 0; l < c.config.n_layers; ++l) {
    for (double& v : obs.heads[l]) v /= static_cast<double>(obs.tokens);
    for (double& v : obs.ffn[l]) v /= static_cast<double>(obs.tokens);
    expect_close(s.heads[l], obs.heads[l], 1e-4, cat("heads of blk.", l));
    expect_close(s.ffn[l], obs.ffn[l], 1e-4, cat("ffn of blk.", l));
    for (int64_t g = 0; g < c.config.n_kv_heads; ++g)
      EXPECT_DOUBLE_EQ(s.groups[l][g], s.heads[l][2 * g] + s.heads[l][2 * g + 1]);
    EXPECT_GT(s.blocks[l], 0.0);
    EXPECT_LT(s.blocks[l], 2.0);
  }

  // With ‖W_down[:, j]‖ the channel scores are the plain ones times the column norms.
  const StructuredScores weighted = structured_scores(c, windows, true);
  std::vector<float> down(static_cast<size_t>(64 * 172));
  const TensorInfo& t = c.tensor("blk.3.ffn_down.weight");
  decode_to_f32(down.data(), t.data, t.dtype, t.n_elements());
  for (int64_t j = 0; j < 172; j += 17) {
    double sq = 0.0;
    for (int64_t r = 0; r < 64; ++r) sq += std::pow(down[r * 172 + j], 2);
    EXPECT_NEAR(weighted.ffn[3][j], s.ffn[3][j] * std::sqrt(sq), 1e-9 * (1 + weighted.ffn[3][j]));
  }
}

TEST(StructuredPrune, PlantedDeadPartsAreRemovedFirst) {
  set_num_threads(2);
  const Checkpoint base = loud(random_model("sp-planted", 8, false));
  // blk.1 head 5 outputs 0 (its V rows are 0); blk.2 channel 7 is 0 (gate row
  // 0); blk.2 adds nothing (o and down 0), so its output is its input.
  const Checkpoint c = edited_copy(base, [](const std::string& name, const TensorInfo&, std::vector<float>& v) {
    if (name == "blk.1.attn_v.weight") std::fill_n(v.begin() + 5 * 8 * 64, 8 * 64, 0.0f);
    if (name == "blk.2.ffn_gate.weight") std::fill_n(v.begin() + 7 * 64, 64, 0.0f);
    if (name == "blk.2.attn_output.weight" || name == "blk.2.ffn_down.weight") std::fill(v.begin(), v.end(), 0.0f);
  });
  const auto windows = random_windows(4, 16, 128, 12);
  const StructuredScores s = structured_scores(c, windows);
  EXPECT_EQ(s.heads[1][5], 0.0);
  EXPECT_EQ(s.ffn[2][7], 0.0);
  EXPECT_NEAR(s.blocks[2], 0.0, 1e-12);
  for (int64_t l = 0; l < 4; ++l)
    if (l != 2) {
      EXPECT_GT(s.blocks[l], 1e-3) << "blk." << l;
    }
  const StructuredPlan p = plan_structured_prune(c.config, s, {1, 95, 1});
  EXPECT_EQ(p.kept_blocks, (std::vector<int64_t>{0, 1, 3}));
  EXPECT_EQ(std::count(p.kept_kv_heads[1].begin(), p.kept_kv_heads[1].end(), 5), 0);
  EXPECT_EQ(p.kept_kv_heads[1].size(), 7u);
  EXPECT_EQ(std::count(p.kept_channels[2].begin(), p.kept_channels[2].end(), 7), 0);
  EXPECT_EQ(p.kept_channels[2].size(), 95u);
}

void expect_error(const std::function<void()>& f, const std::string& where) {
  try {
    f();
    ADD_FAILURE() << "no error, expected one from " << where;
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(where + ": ", 0), 0u) << e.what();
  }
}

// A mixture of experts (Mixtral, 4 experts, 2 per token): the experts'
// routed fractions add up to 2 per layer; --drop-experts removes the least
// routed of each layer, renumbering the rest (their matrices as they were)
// and keeping the router rows of the kept ones; heads are cut as in a dense
// model (the pruned model equals the original with those heads masked).
TEST(StructuredPrune, MixtureOfExpertsDropsTheLeastRoutedExperts) {
  RandomModelSpec spec;
  ModelConfig& cfg = spec.config;
  cfg.architecture = "mixtral";
  cfg.dim = 64;
  cfg.hidden_dim = cfg.expert_hidden_dim = 64;
  cfg.n_layers = 2;
  cfg.n_heads = 8;
  cfg.n_kv_heads = 4;
  cfg.head_dim = 8;
  cfg.vocab_size = 128;
  cfg.context_length = 64;
  cfg.n_experts = 4;
  cfg.n_experts_used = 2;
  spec.seed = 5;
  spec.init_std = 0.2f;
  const std::string dir = testing::temp_dir() + "/structured_mixtral";
  write_random_model(spec, dir);
  const Checkpoint c = load_checkpoint(dir);
  const auto windows = random_windows(4, 32, 128, 3);

  StructuredPruneOptions o;
  o.drop_experts = 1;
  const StructuredPruneResult r = structured_prune(c, windows, o);
  EXPECT_EQ(r.checkpoint.config.n_experts, 3);
  EXPECT_EQ(r.checkpoint.config.n_experts_used, 2);
  for (int64_t l = 0; l < 2; ++l) {
    const std::vector<double>& routed = r.report.scores.experts[l];
    ASSERT_EQ(routed.size(), 4u);
    EXPECT_NEAR(routed[0] + routed[1] + routed[2] + routed[3], 2.0, 1e-12);
    ASSERT_EQ(r.report.removed_experts[l].size(), 1u);
    const int64_t gone = r.report.removed_experts[l][0];
    EXPECT_EQ(gone, std::min_element(routed.begin(), routed.end()) - routed.begin());
    int64_t next = 0;
    for (int64_t e = 0; e < 4; ++e) {
      if (e == gone) continue;
      for (const char* kind : {"ffn_gate_exps", "ffn_up_exps", "ffn_down_exps"}) {
        const TensorInfo& a = c.tensor(expert_tensor_name(l, kind, e));
        const TensorInfo& b = r.checkpoint.tensor(expert_tensor_name(l, kind, next));
        ASSERT_EQ(a.nbytes, b.nbytes);
        EXPECT_EQ(std::memcmp(a.data, b.data, a.nbytes), 0) << kind << " " << e;
      }
      const std::vector<float> router = decoded(c.tensor(cat("blk.", l, ".ffn_gate_inp.weight")));
      const std::vector<float> cut = decoded(r.checkpoint.tensor(cat("blk.", l, ".ffn_gate_inp.weight")));
      EXPECT_TRUE(std::equal(router.begin() + e * 64, router.begin() + (e + 1) * 64, cut.begin() + next * 64));
      ++next;
    }
  }
  EXPECT_NE(format_structured_prune_report(r.report).find("experts 4 -> 3 (2 per token)"), std::string::npos)
      << format_structured_prune_report(r.report);

  StructuredPruneOptions heads;
  heads.heads = 2;
  const StructuredPruneResult h = structured_prune(c, windows, heads);
  const std::vector<int32_t> probe = random_windows(1, 24, 128, 8)[0];
  EXPECT_LE(max_abs_diff(logits_of(h.checkpoint, probe), logits_of(masked(c, h.report), probe)), kMaskedTolerance);
  EXPECT_GT(max_abs_diff(logits_of(h.checkpoint, probe), logits_of(c, probe)), 100 * kMaskedTolerance);

  StructuredPruneOptions all;
  all.drop_experts = 4;
  EXPECT_THROW(structured_prune(c, windows, all), Error);
  StructuredPruneOptions width;
  width.ffn_width = 32;
  EXPECT_THROW(structured_prune(c, windows, width), Error);
}

TEST(StructuredPrune, RefusesBadOptionsAndWindowsByName) {
  set_num_threads(2);
  const Checkpoint c = random_model("sp-errors", 4, false);  // groups of 2
  const ModelConfig& cfg = c.config;
  const auto windows = random_windows(2, 8, 128, 1);
  auto prune = [&](StructuredPruneOptions o) { return [&c, &windows, o] { structured_prune(c, windows, o); }; };
  expect_error(prune({1, 0, 0}), "structure.heads");   // not a multiple of the group size 2
  expect_error(prune({8, 0, 0}), "structure.heads");   // leaves no head
  expect_error(prune({-2, 0, 0}), "structure.heads");
  expect_error(prune({0, 97, 0}), "structure.ffn_width");
  expect_error(prune({0, -1, 0}), "structure.ffn_width");
  expect_error(prune({0, 0, 4}), "structure.drop_blocks");  // never all
  expect_error(prune({0, 0, -1}), "structure.drop_blocks");
  // Options are checked before the windows are looked at.
  expect_error([&] { structured_prune(c, {}, {3, 0, 0}); }, "structure.heads");
  expect_error([&] { structured_scores(c, {}); }, "calibration");
  expect_error([&] { structured_scores(c, {{1, 2, 3}, {1, 2}}); }, "calibration");
  expect_error([&] { structured_scores(c, {{1, 2, 300}}); }, "calibration");
  // Accepted at the edges: all but one group, width 1, all but one block.
  const StructuredPruneResult r = structured_prune(c, windows, {6, 1, 3});
  EXPECT_EQ(r.checkpoint.config.n_heads, 2);
  EXPECT_EQ(r.checkpoint.config.n_kv_heads, 1);
  EXPECT_EQ(r.checkpoint.config.hidden_dim, 1);
  EXPECT_EQ(r.checkpoint.config.n_layers, 1);
  EXPECT_EQ(cfg.n_layers, 4);
  // A plan that does not fit the checkpoint.
  StructuredPlan bad = r.report.plan;
  bad.kept_blocks = {2, 1};
  expect_error([&] { apply_structured_prune(c, bad); }, c.path);
  bad = r.report.plan;
  bad.kept_blocks = {0, 1};
  bad.kept_channels[0] = {0, 1};
  expect_error([&] { apply_structured_prune(c, bad); }, c.path);
}

TEST(StructuredPrune, ReportNamesWhatWasRemoved) {
  set_num_threads(2);
  const Checkpoint c = loud(random_model("sp-report", 4, false));
  const StructuredPruneResult r = structured_prune(c, random_windows(2, 16, 128, 2), {2, 80, 1});
  const std::string text = format_structured_prune_report(r.report);
  EXPECT_NE(text.find(cat("blk.", r.report.dropped_blocks[0], ": block influence")), std::string::npos) << text;
  EXPECT_NE(text.find("dropped"), std::string::npos) << text;
  EXPECT_NE(text.find("heads 8/4 -> 6/3"), std::string::npos) << text;
  EXPECT_NE(text.find("FFN 96 -> 80"), std::string::npos) << text;
  EXPECT_NE(text.find(cat("parameters ", r.report.parameters_before, " -> ", r.report.parameters_after)),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace lmpack
