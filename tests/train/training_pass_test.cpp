// TrainingPass: the whole model's backward against finite differences (tiny
// random models, with and without tied embeddings, q/k/v biases, grouped
// queries), the fast kernels against the reference ones, and the forward's
// logits against the runtime's forward on a real model.
#include "train/training_pass.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "gradient_check.h"
#include "kernels/ops.h"
#include "model/checkpoint.h"
#include "runtime/forward.h"
#include "runtime/weights.h"
#include "test_paths.h"
#include "train/losses.h"

namespace lmpack {
namespace {

TrainableModel tiny_model(bool tied, bool bias, uint32_t seed) {
  ModelConfig c;
  c.dim = 16;
  c.hidden_dim = 24;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.head_dim = 4;
  c.vocab_size = 11;
  c.context_length = 8;
  c.tied_embeddings = tied;
  c.attn_qkv_bias = bias;
  TrainableModel m{ParameterLayout(c), {}, std::vector<float>(c.head_dim / 2), ""};
  rope_inv_freq(m.rope_inv_freq.data(), c.head_dim, c.rope_theta);
  m.values = testing::random_floats(m.layout.size(), seed, -0.5f, 0.5f);
  // Norm weights near 1, as trained models have them.
  for (const ParameterTensor& t : m.layout.tensors())
    if (t.name.find("norm") != std::string::npos)
      for (size_t i = 0; i < t.size; ++i) m.values[t.offset + i] += 1.0f;
  return m;
}

struct Case {
  const char* name;
  bool tied, bias;
  TrainKernels kernels;
};

class TrainingPassGradients : public ::testing::TestWithParam<Case> {};

// loss = sum c . logits for a fixed random c: dlogits = c. Every tensor is
// probed at a few random elements (all of it for the small ones).
TEST_P(TrainingPassGradients, MatchFiniteDifferences) {
  const Case p = GetParam();
  TrainableModel m = tiny_model(p.tied, p.bias, 41);
  const int64_t batch = 2, seq = 5, vocab = m.layout.config().vocab_size;
  std::vector<int32_t> tokens = {3, 7, 1, 10, 0, 5, 5, 2, 9, 4};
  TrainingPass pass(m, batch, seq, p.kernels);
  const auto c = testing::random_floats(static_cast<size_t>(batch * seq * vocab), 42);
  std::vector<float> logits(c.size());
  auto loss = [&] {
    pass.forward(tokens.data(), logits.data());
    double s = 0.0;
    for (size_t i = 0; i < c.size(); ++i) s += static_cast<double>(c[i]) * logits[i];
    return s;
  };
  loss();
  std::vector<float> grads(m.layout.size(), 0.0f);
  pass.backward(c.data(), grads.data());
  std::mt19937 gen(43);
  std::vector<size_t> probe;
  for (const ParameterTensor& t : m.layout.tensors()) {
    if (t.size <= 24) {
      for (size_t i = 0; i < t.size; ++i) probe.push_back(t.offset + i);
    } else {
      std::uniform_int_distribution<size_t> pick(0, t.size - 1);
      for (int i = 0; i < 6; ++i) probe.push_back(t.offset + pick(gen));
    }
  }
  // Embedding rows of tokens that occur: random picks could miss them all.
  for (int32_t tok : {3, 5}) probe.push_back(m.layout.find("token_embd.weight")->offset + tok * 16 + 2);
  const std::vector<double> numeric = testing::numeric_gradient(m.values.data(), m.values.size(), loss, 1e-3f, probe);
  testing::expect_gradient_near(p.name, grads.data(), numeric, 3e-3, 2e-2, probe);
}

INSTANTIATE_TEST_SUITE_P(
    TinyModels, TrainingPassGradients,
    ::testing::Values(Case{"separate_output_fast", false, false, TrainKernels::kFast},
                      Case{"tied_bias_fast", true, true, TrainKernels::kFast},
                      Case{"separate_output_reference", false, false, TrainKernels::kReference},
                      Case{"tied_bias_reference", true, true, TrainKernels::kReference}),
    [](const auto& info) { return std::string(info.param.name); });

// A loss on the residual stream after block 0 (what hidden-state matching
// adds): its gradient goes in through block_output_grads.
TEST(TrainingPass, BlockOutputGradientsMatchFiniteDifferences) {
  TrainableModel m = tiny_model(false, true, 44);
  const int64_t seq = 5, dim = m.layout.config().dim, vocab = m.layout.config().vocab_size;
  std::vector<int32_t> tokens = {3, 7, 1, 10, 0};
  TrainingPass pass(m, 1, seq);
  const auto c = testing::random_floats(static_cast<size_t>(seq * vocab), 45);
  const auto e = testing::random_floats(static_cast<size_t>(seq * dim), 46);
  std::vector<float> logits(c.size());
  auto loss = [&] {
    pass.forward(tokens.data(), logits.data());
    double s = 0.0;
    for (size_t i = 0; i < c.size(); ++i) s += static_cast<double>(c[i]) * logits[i];
    const float* h = pass.block_output(0);
    for (size_t i = 0; i < e.size(); ++i) s += static_cast<double>(e[i]) * h[i];
    return s;
  };
  loss();
  EXPECT_EQ(pass.block_output(1), pass.block_output(m.layout.config().n_layers - 1));
  std::vector<float> grads(m.layout.size(), 0.0f);
  const std::vector<const float*> extra = {e.data(), nullptr};
  pass.backward(c.data(), grads.data(), &extra);
  std::vector<size_t> probe;
  for (const char* name : {"blk.0.attn_q.weight", "blk.0.ffn_down.weight", "blk.0.attn_norm.weight",
                           "blk.1.ffn_up.weight", "token_embd.weight"}) {
    const ParameterTensor* t = m.layout.find(name);
    for (size_t i = 0; i < t->size; i += 7) probe.push_back(t->offset + i);
  }
  const std::vector<double> numeric = testing::numeric_gradient(m.values.data(), m.values.size(), loss, 1e-3f, probe);
  testing::expect_gradient_near("with block 0's output in the loss", grads.data(), numeric, 3e-3, 2e-2, probe);
}

TEST(TrainingPass, CrossEntropyGradientsMatchFiniteDifferences) {
  TrainableModel m = tiny_model(true, false, 51);
  std::vector<int32_t> tokens = {1, 2, 3, 4, 5, 6}, targets = {2, 3, 4, 5, 6, -1};
  TrainingPass pass(m, 1, 6);
  const int64_t vocab = m.layout.config().vocab_size;
  std::vector<float> logits(6 * vocab), dlogits(logits.size());
  auto loss = [&] {
    pass.forward(tokens.data(), logits.data());
    return cross_entropy(dlogits.data(), logits.data(), targets.data(), 6, vocab);
  };
  loss();
  std::vector<float> grads(m.layout.size(), 0.0f);
  pass.backward(dlogits.data(), grads.data());
  std::vector<size_t> probe;
  for (size_t i = 0; i < m.values.size(); i += 37) probe.push_back(i);
  const std::vector<double> numeric = testing::numeric_gradient(m.values.data(), m.values.size(), loss, 1e-3f, probe);
  testing::expect_gradient_near("cross-entropy", grads.data(), numeric, 1e-3, 2e-2, probe);
}

// The residual stream after every block, as the runtime reports it.
struct BlockOutputs final : BlockOutputObserver {
  std::vector<std::vector<float>> rows;  // [layer][position * dim]
  void observe(int64_t layer, int64_t first_pos, const float* x, int64_t m, int64_t dim) override {
    if (static_cast<int64_t>(rows.size()) <= layer) rows.resize(static_cast<size_t>(layer + 1));
    std::vector<float>& out = rows[static_cast<size_t>(layer)];
    if (static_cast<int64_t>(out.size()) < (first_pos + m) * dim) out.resize(static_cast<size_t>((first_pos + m) * dim));
    std::copy_n(x, m * dim, out.begin() + first_pos * dim);
  }
};

// The training forward is the runtime's model: same logits and the same
// residual stream after every block (the runtime's BlockOutputObserver) as
// the fast forward, sequence by sequence, on a real checkpoint.
TEST(TrainingPass, LogitsEqualTheRuntimeForward) {
  LMPACK_REQUIRE_SHARED();
  const Checkpoint ckpt = load_checkpoint(testing::shared_path("models/stories260K/stories260K.bin"));
  const TrainableModel m = trainable_from_checkpoint(ckpt);
  const int64_t batch = 2, seq = 48, vocab = ckpt.config.vocab_size;
  std::vector<int32_t> tokens(batch * seq);
  std::mt19937 gen(7);
  for (int32_t& t : tokens) t = static_cast<int32_t>(gen() % vocab);
  TrainingPass pass(m, batch, seq);
  std::vector<float> logits(batch * seq * vocab), expected(seq * vocab);
  pass.forward(tokens.data(), logits.data());
  auto forward = make_fast_forward(build_weights(ckpt));
  BlockOutputs blocks;
  forward->set_block_output_observer(&blocks);
  const int64_t dim = ckpt.config.dim;
  float worst = 0.0f, worst_state = 0.0f;
  for (int64_t b = 0; b < batch; ++b) {
    forward->reset();
    blocks.rows.clear();
    // In two calls: the observer hears each call's positions.
    forward->forward(tokens.data() + b * seq, seq / 2, expected.data());
    forward->forward(tokens.data() + b * seq + seq / 2, seq - seq / 2, expected.data() + seq / 2 * vocab);
    for (int64_t i = 0; i < seq * vocab; ++i)
      worst = std::max(worst, std::fabs(logits[b * seq * vocab + i] - expected[i]));
    ASSERT_EQ(static_cast<int64_t>(blocks.rows.size()), ckpt.config.n_layers);
    for (int64_t l = 0; l < ckpt.config.n_layers; ++l) {
      ASSERT_EQ(static_cast<int64_t>(blocks.rows[l].size()), seq * dim);
      for (int64_t i = 0; i < seq * dim; ++i)
        worst_state = std::max(worst_state, std::fabs(pass.block_output(l)[b * seq * dim + i] - blocks.rows[l][i]));
    }
  }
  EXPECT_LT(worst, 1e-4f);
  EXPECT_LT(worst_state, 1e-4f);
}

// The fast kernels (oneDNN, threads) against the plain loops on one thread,
// on a real model: logits and every gradient.
TEST(TrainingPass, FastEqualsReferenceOnARealModel) {
  LMPACK_REQUIRE_SHARED();
  const Checkpoint ckpt = load_checkpoint(testing::shared_path("models/stories260K/stories260K.bin"));
  const TrainableModel m = trainable_from_checkpoint(ckpt);
  const int64_t batch = 2, seq = 32, vocab = ckpt.config.vocab_size;
  std::vector<int32_t> tokens(batch * seq), targets(batch * seq);
  std::mt19937 gen(8);
  for (int32_t& t : tokens) t = static_cast<int32_t>(gen() % vocab);
  for (int64_t r = 0; r < batch * seq; ++r) targets[r] = (r + 1) % seq == 0 ? -1 : tokens[r + 1];
  std::vector<std::vector<float>> grads;
  std::vector<double> losses;
  for (TrainKernels k : {TrainKernels::kFast, TrainKernels::kReference}) {
    TrainingPass pass(m, batch, seq, k);
    std::vector<float> logits(batch * seq * vocab);
    pass.forward(tokens.data(), logits.data());
    losses.push_back(cross_entropy(logits.data(), logits.data(), targets.data(), batch * seq, vocab));
    grads.emplace_back(m.layout.size(), 0.0f);
    pass.backward(logits.data(), grads.back().data());
  }
  EXPECT_NEAR(losses[0], losses[1], 1e-5 * losses[1]);
  EXPECT_GT(losses[0], 1.0);  // random tokens: a real loss, not 0
  for (const ParameterTensor& t : m.layout.tensors()) {
    double diff = 0.0, norm = 0.0;
    for (size_t i = t.offset; i < t.offset + t.size; ++i) {
      diff += std::pow(static_cast<double>(grads[0][i]) - grads[1][i], 2);
      norm += std::pow(static_cast<double>(grads[1][i]), 2);
    }
    EXPECT_GT(norm, 0.0) << t.name;
    EXPECT_LT(std::sqrt(diff), 1e-4 * std::sqrt(norm) + 1e-7) << t.name;
  }
}

// Under an activation budget the blocks that do not fit recompute their
// activations in the backward: the same logits, block outputs and gradient
// bits as keeping them all, in less memory (stories260K: 5 blocks).
TEST(TrainingPass, RecomputationGivesTheSameBitsInLessMemory) {
  LMPACK_REQUIRE_SHARED();
  const Checkpoint ckpt = load_checkpoint(testing::shared_path("models/stories260K/stories260K.bin"));
  const TrainableModel m = trainable_from_checkpoint(ckpt);
  const ModelConfig& c = ckpt.config;
  const int64_t batch = 2, seq = 64, vocab = c.vocab_size, rows = batch * seq;
  ASSERT_EQ(c.n_layers, 5);
  std::vector<int32_t> tokens(rows), targets(rows);
  std::mt19937 gen(12);
  for (int32_t& t : tokens) t = static_cast<int32_t>(gen() % vocab);
  for (int64_t r = 0; r < rows; ++r) targets[r] = (r + 1) % seq == 0 ? -1 : tokens[r + 1];
  // A loss on the residual stream too, as hidden-state matching adds.
  const std::vector<float> pull = testing::random_floats(static_cast<size_t>(rows * c.dim), 5, -0.01f, 0.01f);
  const std::vector<const float*> block_grads{nullptr, pull.data(), nullptr, nullptr, pull.data()};

  const size_t all = TrainingPass::activation_bytes_for(c, batch, seq, true);
  const size_t least = TrainingPass::activation_bytes_for(c, batch, seq, false);
  const size_t set = (all - least) / 4;  // one block's activations
  struct Run {
    size_t bytes;
    int64_t recomputed;
    std::vector<float> logits, last_block, grads;
  };
  std::vector<Run> runs;
  // No bound; room for 3 sets (2 blocks kept, the last one in the shared
  // set from the forward, 2 recomputed); the least (4 recomputed).
  for (size_t budget : {size_t{0}, least + 2 * set + set / 2, least}) {
    TrainingPass pass(m, batch, seq, TrainKernels::kFast, budget);
    Run run{pass.activation_bytes(), pass.recomputed_blocks(), std::vector<float>(rows * vocab), {},
            std::vector<float>(m.layout.size(), 0.0f)};
    pass.forward(tokens.data(), run.logits.data());
    run.last_block.assign(pass.block_output(4), pass.block_output(4) + rows * c.dim);
    std::vector<float> dlogits = run.logits;
    cross_entropy(dlogits.data(), dlogits.data(), targets.data(), rows, vocab);
    pass.backward(dlogits.data(), run.grads.data(), &block_grads);
    if (budget > 0) {
      EXPECT_LE(run.bytes, budget);
    }
    runs.push_back(std::move(run));
  }
  EXPECT_EQ(runs[0].bytes, all);
  EXPECT_EQ(runs[0].recomputed, 0);
  EXPECT_EQ(runs[1].recomputed, 2);
  EXPECT_EQ(runs[2].recomputed, 4);
  EXPECT_EQ(runs[2].bytes, least);
  EXPECT_LT(runs[2].bytes, runs[1].bytes);
  EXPECT_LT(runs[1].bytes, runs[0].bytes);
  for (size_t i = 1; i < runs.size(); ++i) {
    EXPECT_EQ(runs[i].logits, runs[0].logits) << "budget " << i;
    EXPECT_EQ(runs[i].last_block, runs[0].last_block) << "budget " << i;
    EXPECT_EQ(runs[i].grads, runs[0].grads) << "budget " << i;
  }
  try {
    TrainingPass(m, batch, seq, TrainKernels::kFast, least - 1);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("activation_memory: "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("lower the batch"), std::string::npos) << e.what();
  }
}

TEST(TrainingPass, RejectsBadShapesAndTokens) {
  TrainableModel m = tiny_model(false, false, 61);
  EXPECT_THROW(TrainingPass(m, 1, 9), Error);  // longer than the context of 8
  EXPECT_THROW(TrainingPass(m, 0, 4), Error);
  TrainingPass pass(m, 1, 2);
  std::vector<int32_t> bad = {1, 11};
  std::vector<float> logits(2 * 11);
  try {
    pass.forward(bad.data(), logits.data());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "tokens: token id 11 at index 1 is outside the vocabulary [0, 11)");
  }
}

}  // namespace
}  // namespace lmpack
