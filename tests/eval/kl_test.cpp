#include "eval/kl.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/error.h"
#include "eval/logits_file.h"
#include "eval/perplexity.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

struct Positions {
  int64_t vocab = 0;
  std::vector<int32_t> targets;
  std::vector<std::vector<float>> log_probs;
};

// Random logits -> log-softmax rows; `noise` perturbs the logits before.
Positions make_positions(int64_t vocab, int64_t count, uint32_t seed, float noise = 0.0f, uint32_t noise_seed = 7) {
  std::mt19937 rng(seed), nrng(noise_seed);
  std::normal_distribution<float> dist(0.0f, 3.0f), ndist(0.0f, 1.0f);
  Positions p;
  p.vocab = vocab;
  for (int64_t i = 0; i < count; ++i) {
    std::vector<float> logits(static_cast<size_t>(vocab)), lp(static_cast<size_t>(vocab));
    for (float& x : logits) x = dist(rng);
    for (float& x : logits) x += noise * ndist(nrng);
    log_softmax(lp.data(), logits.data(), vocab);
    p.targets.push_back(static_cast<int32_t>(rng() % vocab));
    p.log_probs.push_back(std::move(lp));
  }
  return p;
}

std::string write_positions(const Positions& p, const std::string& name) {
  std::string path = testing::temp_dir() + "/" + name;
  LogitsWriter w(path, p.vocab, static_cast<int64_t>(p.targets.size()), hash_targets(p.targets));
  for (size_t i = 0; i < p.targets.size(); ++i) w.add(p.targets[i], p.log_probs[i].data());
  w.commit();
  return path;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(LogitsFile, RoundTripIsExact) {
  Positions p = make_positions(37, 25, 1);
  std::string path = write_positions(p, "round.logits");
  EXPECT_EQ(fs::file_size(path), kLogitsHeaderBytes + 25 * (4 + 4 * 37));
  LogitsFile f = LogitsFile::open(path);
  EXPECT_EQ(f.vocab(), 37);
  EXPECT_EQ(f.count(), 25);
  EXPECT_EQ(f.targets_hash(), hash_targets(p.targets));
  for (int64_t i = 0; i < 25; ++i) {
    EXPECT_EQ(f.target(i), p.targets[i]);
    for (int64_t v = 0; v < 37; ++v) ASSERT_EQ(f.log_probs(i)[v], p.log_probs[i][v]);
  }
}

TEST(LogitsFile, IncompleteWriteLeavesNothing) {
  Positions p = make_positions(5, 3, 2);
  std::string path = testing::temp_dir() + "/partial.logits";
  {
    LogitsWriter w(path, 5, 4, hash_targets(p.targets));  // announces 4, gets 3
    for (size_t i = 0; i < 3; ++i) w.add(p.targets[i], p.log_probs[i].data());
    EXPECT_THROW(w.commit(), Error);
  }
  EXPECT_FALSE(fs::exists(path));
  for (const auto& e : fs::directory_iterator(testing::temp_dir()))
    EXPECT_EQ(e.path().filename().string().find("partial.logits"), std::string::npos) << e.path();
}

TEST(LogitsFile, TruncatedAndForeignFilesAreRefused) {
  Positions p = make_positions(16, 10, 3);
  std::string path = write_positions(p, "full.logits");
  std::string cut = testing::temp_dir() + "/cut.logits";
  for (uint64_t keep : {uint64_t{0}, uint64_t{7}, uint64_t{39}, uint64_t{40}, fs::file_size(path) - 1}) {
    fs::copy_file(path, cut, fs::copy_options::overwrite_existing);
    fs::resize_file(cut, keep);
    std::string msg = error_of([&] { LogitsFile::open(cut); });
    EXPECT_NE(msg.find(cut), std::string::npos) << "keep " << keep << ": '" << msg << "'";
  }
  std::string msg = error_of([&] { LogitsFile::open(cut); });
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  std::ofstream(cut, std::ios::binary | std::ios::trunc) << "GGUF and then some more bytes than forty in total...";
  EXPECT_NE(error_of([&] { LogitsFile::open(cut); }).find("bad magic"), std::string::npos);
  EXPECT_THROW(LogitsFile::open(testing::temp_dir() + "/does-not-exist.logits"), Error);
}

TEST(Kl, FileAgainstItselfIsExactlyZero) {
  Positions p = make_positions(64, 50, 4);
  LogitsFile f = LogitsFile::open(write_positions(p, "self.logits"));
  KlStats s = compare_logits_files(f, f);
  EXPECT_EQ(s.count, 50);
  EXPECT_EQ(s.kl_mean, 0.0);
  EXPECT_EQ(s.kl_median, 0.0);
  EXPECT_EQ(s.kl_p99, 0.0);
  EXPECT_EQ(s.top1_agreement, 1.0);
  double nll = 0.0;
  for (size_t i = 0; i < p.targets.size(); ++i) nll -= p.log_probs[i][p.targets[i]];
  EXPECT_NEAR(s.base_perplexity, std::exp(nll / 50), 1e-9);
}

TEST(Kl, PerturbedLogitsGivePositiveDivergence) {
  Positions base = make_positions(64, 200, 5);
  Positions cur = make_positions(64, 200, 5, /*noise=*/1.0f);
  ASSERT_EQ(base.targets, cur.targets);
  LogitsFile b = LogitsFile::open(write_positions(base, "base.logits"));
  KlAccumulator acc(b, 64, 200, hash_targets(cur.targets));
  double mean = 0.0;
  for (size_t i = 0; i < cur.targets.size(); ++i) {
    acc.add(cur.targets[i], cur.log_probs[i].data());
    mean += kl_divergence(base.log_probs[i].data(), cur.log_probs[i].data(), 64) / 200;
  }
  KlStats s = acc.finish();
  EXPECT_GT(s.kl_mean, 0.01);
  EXPECT_NEAR(s.kl_mean, mean, 1e-12);
  EXPECT_GT(s.kl_median, 0.0);
  EXPECT_GE(s.kl_p99, s.kl_median);
  EXPECT_GE(s.kl_max, s.kl_p99);
  EXPECT_LT(s.top1_agreement, 1.0);
  EXPECT_GT(s.top1_agreement, 0.3);
}

TEST(Kl, KnownTwoTokenValue) {
  // p = (0.75, 0.25), q = (0.5, 0.5): KL = 0.75 ln 1.5 + 0.25 ln 0.5.
  const float lp[2] = {std::log(0.75f), std::log(0.25f)};
  const float lq[2] = {std::log(0.5f), std::log(0.5f)};
  EXPECT_NEAR(kl_divergence(lp, lq, 2), 0.75 * std::log(1.5) + 0.25 * std::log(0.5), 1e-7);
  EXPECT_EQ(argmax(lp, 2), 0);
}

TEST(Kl, MismatchedFilesAreRefusedWithBothValues) {
  Positions p = make_positions(32, 12, 6);
  std::string path = write_positions(p, "mismatch.logits");
  LogitsFile f = LogitsFile::open(path);
  const uint64_t h = hash_targets(p.targets);
  std::string msg = error_of([&] { KlAccumulator(f, 48, 12, h); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("32"), std::string::npos) << msg;
  EXPECT_NE(msg.find("48"), std::string::npos) << msg;
  msg = error_of([&] { KlAccumulator(f, 32, 13, h); });
  EXPECT_NE(msg.find("12"), std::string::npos) << msg;
  EXPECT_NE(msg.find("13"), std::string::npos) << msg;
  std::vector<int32_t> other = p.targets;
  other[5] = (other[5] + 1) % 32;
  msg = error_of([&] { KlAccumulator(f, 32, 12, hash_targets(other)); });
  EXPECT_NE(msg.find("differ"), std::string::npos) << msg;
  // Fewer positions than the base holds is an error too.
  KlAccumulator acc(f, 32, 12, h);
  acc.add(p.targets[0], p.log_probs[0].data());
  EXPECT_THROW(acc.finish(), Error);
  EXPECT_THROW(acc.add(p.targets[2], p.log_probs[1].data()), Error);  // wrong target at position 1
}

}  // namespace
}  // namespace lmpack
