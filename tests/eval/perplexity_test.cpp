#include "eval/perplexity.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "core/error.h"
#include "eval_fakes.h"

namespace lmpack {
namespace {

using testing::FakeForward;
using testing::FakeTokenizer;

std::vector<int32_t> iota_tokens(int n, int first) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  std::iota(t.begin(), t.end(), first);
  return t;
}

TEST(Windows, CutsConsecutiveWindowsWithBosFirst) {
  std::vector<int32_t> tokens = iota_tokens(11, 100);  // 11 tokens, ctx 4 -> 2 whole windows
  auto w = build_windows(tokens, /*bos=*/1, 4, 0, false, "text");
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].tokens, (std::vector<int32_t>{1, 101, 102, 103}));
  EXPECT_EQ(w[1].tokens, (std::vector<int32_t>{1, 105, 106, 107}));
  EXPECT_EQ(w[0].first_target, 1);
  EXPECT_EQ(count_scored(w), 6);
  EXPECT_EQ(scored_targets(w), (std::vector<int32_t>{101, 102, 103, 105, 106, 107}));
}

TEST(Windows, ChunksLimitTheWindowCount) {
  auto w = build_windows(iota_tokens(40, 0), 1, 8, 3, false, "text");
  EXPECT_EQ(w.size(), 3u);
  EXPECT_EQ(build_windows(iota_tokens(40, 0), 1, 8, 0, false, "text").size(), 5u);
  EXPECT_EQ(build_windows(iota_tokens(40, 0), 1, 8, 99, false, "text").size(), 5u);
}

TEST(Windows, SecondHalfScoresLikeLlamaCpp) {
  // llama.cpp scores logits j in [ctx/2, ctx-1), i.e. targets [ctx/2+1, ctx).
  auto w = build_windows(iota_tokens(16, 0), 1, 8, 0, true, "text");
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].first_target, 5);
  EXPECT_EQ(w[0].scored(), 3);
  EXPECT_EQ(scored_targets(w), (std::vector<int32_t>{5, 6, 7, 13, 14, 15}));
}

TEST(Windows, TooShortTextIsAClearError) {
  try {
    build_windows(iota_tokens(5, 0), 1, 8, 0, false, "story.txt");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "story.txt: the text has 5 tokens; a window of 8 needs 8: give more text or a smaller `ctx`");
  }
  try {  // one token: singular; a huge --ctx: the message points at --ctx
    build_windows(iota_tokens(1, 0), 1, int64_t{1} << 40, 0, false, "story.txt");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "story.txt: the text has 1 token; a window of 1099511627776 needs "
                                     "1099511627776: give more text or a smaller `ctx`");
  }
  // Second-half scoring needs two windows' worth, as llama.cpp does.
  EXPECT_THROW(build_windows(iota_tokens(12, 0), 1, 8, 0, true, "t"), Error);
  EXPECT_NO_THROW(build_windows(iota_tokens(8, 0), 1, 8, 0, false, "t"));
  EXPECT_THROW(build_windows(iota_tokens(8, 0), 1, 1, 0, false, "t"), Error);
  EXPECT_THROW(build_windows(iota_tokens(8, 0), 1, 4, -1, false, "t"), Error);
}

TEST(Documents, SplitStripsAndDropsEmpty) {
  const std::string text = "  ab \n<|sep|>\n \n<|sep|>\tb b\n<|sep|>c  \n<|sep|>\n";
  EXPECT_EQ(split_documents(text, "<|sep|>", 0), (std::vector<std::string>{"ab", "b b", "c"}));
  EXPECT_EQ(split_documents(text, "<|sep|>", 2), (std::vector<std::string>{"ab", "b b"}));
  EXPECT_EQ(split_documents("no separator here", "<|sep|>", 0),
            (std::vector<std::string>{"no separator here"}));
  EXPECT_TRUE(split_documents(" \n ", "<|sep|>", 0).empty());
  EXPECT_THROW(split_documents(text, "", 0), Error);
  EXPECT_THROW(split_documents(text, "<|sep|>", -3), Error);
}

TEST(Documents, BosPlusTokensCutToCtx) {
  FakeTokenizer tok;
  auto seqs = build_documents({"abcdef", "b", "ab"}, tok, 4);
  ASSERT_EQ(seqs.size(), 3u);
  EXPECT_EQ(seqs[0].tokens, (std::vector<int32_t>{1, 2, 3, 4}));  // cut to ctx
  EXPECT_EQ(seqs[1].tokens, (std::vector<int32_t>{1, 3}));
  EXPECT_EQ(seqs[2].tokens, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(count_scored(seqs), 3 + 1 + 2);  // BOS itself is never predicted
}

TEST(Documents, OptionsPickTheMode) {
  FakeTokenizer tok;
  EvalOptions o;
  o.ctx = 16;
  o.doc_separator = "|";
  o.max_docs = 2;
  auto docs = build_eval_sequences("abc|  |de|fgh", tok, o, "t.txt");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[1].tokens, (std::vector<int32_t>{1, 5, 6}));
  o.doc_separator.clear();
  o.ctx = 3;
  auto windows = build_eval_sequences("abcdefg", tok, o, "t.txt");  // 8 tokens with BOS -> 2 windows
  ASSERT_EQ(windows.size(), 2u);
  EXPECT_EQ(windows[1].tokens, (std::vector<int32_t>{1, 5, 6}));  // 4 replaced by BOS
  o.doc_separator = "|";
  EXPECT_THROW(build_eval_sequences(" | |", tok, o, "t.txt"), Error);
}

TEST(Perplexity, MatchesHandComputedValue) {
  // Vocab 8; the fake bets on token+1. Window 1: [1, 2, 3, 5]: targets 2, 3 are
  // predicted, 5 is not. Window 2: [1, 7, 0, 1]: 7 is not, 0 and 1 are.
  const int64_t vocab = 8;
  std::vector<int32_t> tokens = {1, 2, 3, 5, 9, 7, 0, 1, 4};  // 9 tokens -> 2 windows of 4
  auto windows = build_windows(tokens, 1, 4, 0, false, "t");
  FakeForward fwd(vocab, 4);
  PerplexityResult r = evaluate_perplexity(fwd, windows);
  const double hit = FakeForward::nll(vocab, true), miss = FakeForward::nll(vocab, false);
  const double expected_nll = 4 * hit + 2 * miss;
  EXPECT_EQ(r.scored, 6);
  EXPECT_EQ(r.sequences, 2);
  EXPECT_EQ(r.forward_tokens, 8);
  EXPECT_NEAR(r.nll_sum, expected_nll, 1e-9);
  EXPECT_NEAR(r.perplexity, std::exp(expected_nll / 6), 1e-9);
  EXPECT_GT(r.tokens_per_second, 0.0);
  // One reset and one whole-window forward per window, BOS first.
  EXPECT_EQ(fwd.resets, 2);
  ASSERT_EQ(fwd.calls.size(), 2u);
  EXPECT_EQ(fwd.calls[1], (std::vector<int32_t>{1, 7, 0, 1}));
}

TEST(Perplexity, SinkSeesEveryScoredPositionInOrder) {
  const int64_t vocab = 8;
  auto windows = build_windows({1, 2, 3, 5, 9, 7, 0, 1}, 1, 4, 0, true, "t");  // targets 3 and 7
  FakeForward fwd(vocab, 4);
  std::vector<int32_t> seen;
  double nll_from_sink = 0.0;
  PerplexityResult r = evaluate_perplexity(fwd, windows, [&](int32_t target, const float* lp, int64_t v) {
    EXPECT_EQ(v, vocab);
    double total = 0.0;
    for (int64_t i = 0; i < v; ++i) total += std::exp(static_cast<double>(lp[i]));
    EXPECT_NEAR(total, 1.0, 1e-6);
    nll_from_sink -= lp[target];
    seen.push_back(target);
  });
  EXPECT_EQ(seen, (std::vector<int32_t>{5, 1}));
  EXPECT_EQ(r.scored, 2);
  EXPECT_NEAR(r.nll_sum, FakeForward::nll(vocab, false) + FakeForward::nll(vocab, true), 1e-9);
  EXPECT_NEAR(nll_from_sink, r.nll_sum, 1e-5);
}

TEST(Perplexity, LongWindowsGoThroughTheForwardInBoundedChunks) {
  // 1300 positions: forward calls of 512, 512 and 276 (the KV cache carries
  // the window on), so logits never need 1300 x vocab floats; every position
  // is still scored once, across the chunk boundaries.
  const int64_t vocab = 8, n = 1300;
  std::vector<int32_t> tokens(n);
  for (int64_t i = 0; i < n; ++i) tokens[i] = static_cast<int32_t>(i % vocab);  // each one predicted
  for (bool second_half : {false, true}) {
    std::vector<int32_t> twice = tokens;
    twice.insert(twice.end(), tokens.begin(), tokens.end());
    auto windows = build_windows(second_half ? twice : tokens, 0, n, 1, second_half, "t");
    FakeForward fwd(vocab, n);
    PerplexityResult r = evaluate_perplexity(fwd, windows);
    ASSERT_EQ(fwd.calls.size(), 3u);
    EXPECT_EQ(fwd.calls[0].size(), 512u);
    EXPECT_EQ(fwd.calls[2].size(), 276u);
    const int64_t scored = second_half ? n - (n / 2 + 1) : n - 1;
    EXPECT_EQ(r.scored, scored);
    EXPECT_EQ(r.forward_tokens, n);
    EXPECT_NEAR(r.nll_sum, scored * FakeForward::nll(vocab, true), 1e-6);
  }
}

TEST(Perplexity, DefaultContextIsTheModelsUpTo4096) {
  EXPECT_EQ(default_eval_ctx(512), 512);
  EXPECT_EQ(default_eval_ctx(2048), 2048);
  EXPECT_EQ(default_eval_ctx(131072), 4096);
}

TEST(Perplexity, SequenceLongerThanTheContextIsRefused) {
  FakeForward fwd(8, 3);
  auto windows = build_windows({1, 2, 3, 4, 5}, 1, 4, 0, false, "t");
  EXPECT_THROW(evaluate_perplexity(fwd, windows), Error);
}

TEST(Perplexity, LogSoftmaxIsStableForHugeLogits) {
  const float logits[3] = {1000.0f, 1000.0f, -1000.0f};
  float out[3];
  double lse = log_softmax(out, logits, 3);
  EXPECT_NEAR(lse, 1000.0 + std::log(2.0), 1e-9);
  EXPECT_NEAR(out[0], -std::log(2.0), 1e-6);
  EXPECT_TRUE(std::isfinite(out[2]));
}

TEST(Perplexity, TargetHashSeesOrderAndValues) {
  EXPECT_EQ(hash_targets({1, 2, 3}), hash_targets({1, 2, 3}));
  EXPECT_NE(hash_targets({1, 2, 3}), hash_targets({1, 3, 2}));
  EXPECT_NE(hash_targets({1, 2, 3}), hash_targets({1, 2, 3, 0}));
}

}  // namespace
}  // namespace lmpack
