// Calibration windows (eval/calibration.h) with stories260K's own tokenizer on
// TinyStories text: count and length, BOS first, text tokens taken from the
// concatenated files, determinism by seed, consecutive mode, and the errors.
#include "eval/calibration.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "model/checkpoint.h"
#include "test_paths.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_readers.h"

namespace lmpack {
namespace {

std::unique_ptr<Tokenizer> stories_tokenizer() {
  return make_tokenizer(load_vocab(testing::shared_path("models/stories260K/stories260K.gguf")), "stories260K");
}

std::string tinystories() { return testing::shared_path("data/tinystories-valid/tinystories_valid_first1000.txt"); }

// The first `bytes` bytes of TinyStories in a temp file.
std::string text_prefix(const std::string& name, size_t bytes) {
  std::ifstream in(tinystories(), std::ios::binary);
  std::string s(bytes, '\0');
  in.read(s.data(), static_cast<std::streamsize>(bytes));
  s.resize(static_cast<size_t>(in.gcount()));
  const std::string path = testing::temp_dir() + "/calib-" + name + ".txt";
  std::ofstream(path, std::ios::binary) << s;
  return path;
}

// True when `w` (after its first element) occurs contiguously in `text`.
bool is_slice_of(const std::vector<int32_t>& w, const std::vector<int32_t>& text) {
  return std::search(text.begin(), text.end(), w.begin() + 1, w.end()) != text.end();
}

TEST(Calibration, RandomWindowsAreSeededSlicesStartingWithBos) {
  LMPACK_REQUIRE_SHARED();
  auto tok = stories_tokenizer();
  CalibrationOptions o;
  o.files = {text_prefix("random", 40000)};
  o.samples = 12;
  o.ctx = 64;
  o.seed = 7;
  const auto a = calibration_windows(*tok, o);
  ASSERT_EQ(a.size(), 12u);
  std::ifstream in(o.files[0], std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::vector<int32_t> ids = tok->encode(text, false);
  int distinct_starts = 0;
  for (const auto& w : a) {
    ASSERT_EQ(w.size(), 64u);
    EXPECT_EQ(w[0], tok->vocab().bos_id);
    EXPECT_EQ(std::count(w.begin() + 1, w.end(), tok->vocab().bos_id), 0);
    EXPECT_TRUE(is_slice_of(w, ids));
    distinct_starts += w != a[0];
  }
  EXPECT_GT(distinct_starts, 8);  // random starts, not one window repeated
  EXPECT_EQ(calibration_windows(*tok, o), a);  // same seed, same windows
  o.seed = 8;
  EXPECT_NE(calibration_windows(*tok, o), a);
}

TEST(Calibration, ConsecutiveWindowsFollowTheConcatenatedFiles) {
  LMPACK_REQUIRE_SHARED();
  auto tok = stories_tokenizer();
  const std::string f = text_prefix("consecutive", 3000);
  CalibrationOptions o;
  o.files = {f, f};
  o.ctx = 33;
  o.random = false;
  std::ifstream in(f, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<int32_t> ids = tok->encode(text, false);
  const auto one = static_cast<int64_t>(ids.size());
  ids.insert(ids.end(), ids.begin(), ids.begin() + one);  // two files
  o.samples = (static_cast<int64_t>(ids.size()) - 32) / 33 + 1;  // windows start every 33 text tokens
  const auto w = calibration_windows(*tok, o);
  ASSERT_EQ(static_cast<int64_t>(w.size()), o.samples);
  for (size_t i = 0; i < w.size(); ++i) {
    ASSERT_EQ(w[i].size(), 33u);
    EXPECT_EQ(w[i][0], tok->vocab().bos_id);
    EXPECT_TRUE(std::equal(w[i].begin() + 1, w[i].end(), ids.begin() + static_cast<int64_t>(i) * 33)) << i;
  }
  // One window more than the text holds is refused in consecutive mode...
  o.samples += 1;
  EXPECT_THROW(calibration_windows(*tok, o), Error);
  // ...while random windows may overlap.
  o.random = true;
  EXPECT_EQ(static_cast<int64_t>(calibration_windows(*tok, o).size()), o.samples);
}

TEST(Calibration, ConsecutiveCutsStartEveryCtxTokens) {
  std::vector<int32_t> text(100);
  for (int i = 0; i < 100; ++i) text[i] = i;
  CalibrationOptions o;
  o.samples = 3;
  o.ctx = 10;
  o.random = false;
  const auto w = cut_calibration_windows(text, -1, o);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[2], std::vector<int32_t>({20, 21, 22, 23, 24, 25, 26, 27, 28, 29}));
  // With a BOS the windows still start every ctx tokens (llama.cpp's chunks): 9, 19 are skipped.
  EXPECT_EQ(cut_calibration_windows(text, 1, o)[2],
            std::vector<int32_t>({1, 20, 21, 22, 23, 24, 25, 26, 27, 28}));
  o.ctx = 100;
  o.samples = 1;
  EXPECT_EQ(cut_calibration_windows(text, -1, o).size(), 1u);  // exactly one window fits
  o.random = true;
  EXPECT_EQ(cut_calibration_windows(text, -1, o)[0], text);
}

std::string error_of(const Tokenizer& tok, const CalibrationOptions& o) {
  try {
    calibration_windows(tok, o);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Calibration, ErrorsNameTheProblem) {
  LMPACK_REQUIRE_SHARED();
  auto tok = stories_tokenizer();
  CalibrationOptions o;
  EXPECT_EQ(error_of(*tok, o),
            "calibration.files: calibrated methods need calibration text; lmpack has no built-in calibration set");
  o.files = {text_prefix("short", 200)};
  o.ctx = 512;
  EXPECT_NE(error_of(*tok, o).find("shorter than one window of 512"), std::string::npos) << error_of(*tok, o);
  o.ctx = 1;
  EXPECT_EQ(error_of(*tok, o), "calibration.ctx: must be at least 2, got 1");
  o.ctx = 16;
  o.samples = 0;
  EXPECT_EQ(error_of(*tok, o), "calibration.samples: must be a positive integer, got 0");
  o.files = {text_prefix("short2", 200)};
  o.samples = 1000000000000;  // refused before anything is allocated (was std::bad_alloc)
  EXPECT_EQ(error_of(*tok, o), "calibration.samples: 1000000000000 windows of 16 tokens exceed lmpack's limit of "
                               "16777216 calibration tokens (typical sets: 128 x 512 to 512 x 2048)");
  o.samples = 1;
  o.files = {testing::temp_dir() + "/calib-missing.txt"};
  EXPECT_NE(error_of(*tok, o).find("calib-missing.txt: no such file"), std::string::npos) << error_of(*tok, o);
}

TEST(Calibration, DefaultWindowFitsTheModel) {
  EXPECT_EQ(default_calibration_ctx(2048), 512);
  EXPECT_EQ(default_calibration_ctx(512), 512);
  EXPECT_EQ(default_calibration_ctx(256), 256);  // ts-llama-4.9M
  EXPECT_EQ(default_calibration_ctx(0), 512);    // unknown
}

}  // namespace
}  // namespace lmpack
