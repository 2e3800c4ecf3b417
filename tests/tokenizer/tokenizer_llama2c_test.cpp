// llama2.c tokenizer.bin (stories260K's tok512.bin): the reader against the
// GGUF-embedded copy of the same vocabulary, the SPM encoder against a plain
// run.c-style reference written here, DATA.md's token counts, speed, and the
// reader's behaviour on truncated and corrupt files.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <unordered_map>

#include "core/error.h"
#include "tokenizer/tokenizer_test_util.h"

namespace lmpack {
namespace {

using testing::read_text_file;
using testing::shared_path;

std::string tok512_path() { return shared_path("models/stories260K/tok512.bin"); }
std::string stories_path() { return shared_path("data/tinystories-valid/tinystories_valid_first1000.txt"); }

// Stories as DATA.md takes them: split at "<|endoftext|>", whitespace-stripped.
std::vector<std::string> read_stories(size_t count) {
  std::string text = read_text_file(stories_path());
  std::vector<std::string> stories;
  const std::string sep = "<|endoftext|>";
  size_t start = 0;
  while (stories.size() < count && start < text.size()) {
    size_t hit = text.find(sep, start);
    std::string story = text.substr(start, hit == std::string::npos ? std::string::npos : hit - start);
    size_t b = story.find_first_not_of(" \t\n\r\f\v");
    size_t e = story.find_last_not_of(" \t\n\r\f\v");
    if (b != std::string::npos) stories.push_back(story.substr(b, e - b + 1));
    if (hit == std::string::npos) break;
    start = hit + sep.size();
  }
  return stories;
}

// llama2.c run.c's encoder, written plainly over the raw file (pieces with
// real spaces, O(n^2) merging): the oracle for the fast SPM encoder.
class RunCReference {
 public:
  explicit RunCReference(const std::string& path) {
    std::string bytes = read_text_file(path);
    size_t pos = 4;
    while (pos < bytes.size()) {
      float score;
      int32_t len;
      std::memcpy(&score, bytes.data() + pos, 4);
      std::memcpy(&len, bytes.data() + pos + 4, 4);
      pieces_.push_back(bytes.substr(pos + 8, len));
      scores_.push_back(score);
      pos += 8 + len;
    }
    for (size_t i = 0; i < pieces_.size(); ++i) lookup_.emplace(pieces_[i], static_cast<int32_t>(i));
  }

  std::vector<int32_t> encode(const std::string& text) const {
    std::vector<int32_t> ids;
    ids.push_back(1);  // BOS
    if (!text.empty()) ids.push_back(lookup_.at(" "));
    for (size_t i = 0; i < text.size();) {
      size_t n = 1;
      while (i + n < text.size() && n < 4 && (static_cast<uint8_t>(text[i + n]) & 0xC0) == 0x80) ++n;
      auto it = lookup_.find(text.substr(i, n));
      if (it != lookup_.end()) {
        ids.push_back(it->second);
      } else {
        for (size_t k = 0; k < n; ++k) ids.push_back(static_cast<uint8_t>(text[i + k]) + 3);
      }
      i += n;
    }
    for (;;) {
      float best = -1e10f;
      int best_id = -1;
      size_t best_at = 0;
      for (size_t i = 1; i + 1 < ids.size(); ++i) {  // ids[0] is BOS
        auto it = lookup_.find(pieces_[ids[i]] + pieces_[ids[i + 1]]);
        if (it != lookup_.end() && scores_[it->second] > best) {
          best = scores_[it->second];
          best_id = it->second;
          best_at = i;
        }
      }
      if (best_id < 0) break;
      ids[best_at] = best_id;
      ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(best_at) + 1);
    }
    return ids;
  }

 private:
  std::vector<std::string> pieces_;
  std::vector<float> scores_;
  std::unordered_map<std::string, int32_t> lookup_;
};

TEST(Llama2cVocab, ReadsTok512) {
  LMPACK_REQUIRE_SHARED();
  Vocab v = load_llama2c_vocab(tok512_path());
  ASSERT_EQ(v.size(), 512);
  EXPECT_EQ(v.model, "llama");
  EXPECT_EQ(v.tokens[0], "<unk>");
  EXPECT_EQ(v.tokens[1], "<s>");
  EXPECT_EQ(v.tokens[2], "</s>");
  EXPECT_EQ(v.tokens[3], "<0x00>");
  EXPECT_EQ(v.tokens[258], "<0xFF>");
  EXPECT_EQ(v.token_types[0], TokenType::kUnknown);
  EXPECT_EQ(v.token_types[1], TokenType::kControl);
  EXPECT_EQ(v.token_types[13], TokenType::kByte);
  EXPECT_EQ(v.token_types[300], TokenType::kNormal);
  EXPECT_EQ(v.bos_id, 1);
  EXPECT_EQ(v.eos_id, 2);
  EXPECT_EQ(v.unk_id, 0);
  for (const std::string& t : v.tokens) EXPECT_EQ(t.find(' '), std::string::npos) << t;
}

TEST(Llama2cVocab, EqualsTheVocabEmbeddedInStories260KGguf) {
  LMPACK_REQUIRE_SHARED();
  Vocab bin = load_llama2c_vocab(tok512_path());
  Vocab gguf = vocab_from_gguf(read_gguf(shared_path("models/stories260K/stories260K.gguf")));
  ASSERT_EQ(bin.size(), gguf.size());
  EXPECT_EQ(bin.model, gguf.model);
  for (int64_t i = 0; i < bin.size(); ++i) {
    EXPECT_EQ(bin.tokens[i], gguf.tokens[i]) << "token " << i;
    EXPECT_EQ(bin.scores[i], gguf.scores[i]) << "token " << i;
    EXPECT_EQ(bin.token_types[i], gguf.token_types[i]) << "token " << i;
  }
  EXPECT_EQ(bin.bos_id, gguf.bos_id);
  EXPECT_EQ(bin.eos_id, gguf.eos_id);
  EXPECT_EQ(bin.unk_id, gguf.unk_id);

  // DATA.md's encoder on the first story: the same ids from both.
  std::string story = read_stories(1).at(0);
  auto from_bin = make_tokenizer(bin, "tok512.bin")->encode(story, true);
  auto from_gguf = make_tokenizer(gguf, "stories260K.gguf")->encode(story, true);
  EXPECT_EQ(from_bin, from_gguf);
  EXPECT_GT(from_bin.size(), 100u);
}

TEST(Llama2cVocab, EncoderMatchesRunCReference) {
  LMPACK_REQUIRE_SHARED();
  RunCReference reference(tok512_path());
  auto tok = make_tokenizer(load_llama2c_vocab(tok512_path()), "tok512.bin");
  std::vector<std::string> texts = read_stories(12);
  texts.insert(texts.end(), {"", " ", "a", "  two  spaces ", "naïve café ½ 日本語 🦙", "\t\ttabs\n\nnewlines\n"});
  for (const std::string& text : texts)
    EXPECT_EQ(tok->encode(text, true), reference.encode(text)) << testing::escape_text(text);
}

// DATA.md: tokens = BOS + encode(story.strip()) cut to 512; 100 stories give
// 32,997 predicted tokens, the first 20 give 6,496.
TEST(Llama2cVocab, TokenCountsMatchDataMd) {
  LMPACK_REQUIRE_SHARED();
  auto tok = make_tokenizer(load_llama2c_vocab(tok512_path()), "tok512.bin");
  std::vector<std::string> stories = read_stories(100);
  ASSERT_EQ(stories.size(), 100u);
  int64_t predicted = 0, predicted20 = 0;
  for (size_t i = 0; i < stories.size(); ++i) {
    auto ids = tok->encode(stories[i], true);
    ASSERT_EQ(ids.front(), 1);
    int64_t n = std::min<int64_t>(static_cast<int64_t>(ids.size()), 512) - 1;
    predicted += n;
    if (i < 20) predicted20 += n;
  }
  EXPECT_EQ(predicted, 32997);
  EXPECT_EQ(predicted20, 6496);
}

// The whole 807 KB file in one call also guards against quadratic merging
// (that would take minutes); speed itself is measured in bench/, not here.
TEST(Llama2cVocab, RoundTripsTheWholeTinyStoriesFile) {
  LMPACK_REQUIRE_SHARED();
  auto tok = make_tokenizer(load_llama2c_vocab(tok512_path()), "tok512.bin");
  std::string text = read_text_file(stories_path());
  ASSERT_EQ(text.size(), 807375u);
  std::vector<int32_t> ids = tok->encode(text, true);
  EXPECT_LT(ids.size(), text.size() * 6 / 10);  // about 2 bytes per token with 512 pieces
  EXPECT_EQ(tok->decode(ids), text);
}

TEST(Llama2cVocab, DecodeFollowsRunC) {
  LMPACK_REQUIRE_SHARED();
  auto tok = make_tokenizer(load_llama2c_vocab(tok512_path()), "tok512.bin");
  EXPECT_EQ(tok->decode_token(-1, 1), "");          // BOS
  EXPECT_EQ(tok->decode_token(-1, 2), "");          // EOS
  EXPECT_EQ(tok->decode_token(-1, 3 + 'A'), "A");   // <0x41>
  EXPECT_EQ(tok->decode_token(-1, 3 + '\n'), "\n");  // <0x0A>
  auto ids = tok->encode("Once upon a time", false);
  EXPECT_EQ(tok->decode(ids), " Once upon a time");  // no BOS: the dummy prefix stays
  ids.insert(ids.begin(), 1);
  EXPECT_EQ(tok->decode(ids), "Once upon a time");  // after BOS one space goes
  EXPECT_THROW(tok->decode_token(-1, 512), Error);
  EXPECT_THROW(tok->decode_token(-1, -2), Error);
}

std::string write_temp(const std::string& name, const std::string& bytes) {
  std::string path = testing::temp_dir() + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST(Llama2cVocab, TruncatedFilesFailOrEndAtATokenBoundary) {
  LMPACK_REQUIRE_SHARED();
  std::string bytes = read_text_file(tok512_path());
  std::vector<size_t> boundaries;  // file sizes that end exactly after a token
  for (size_t pos = 4; pos < bytes.size();) {
    int32_t len;
    std::memcpy(&len, bytes.data() + pos + 4, 4);
    pos += 8 + len;
    boundaries.push_back(pos);
  }
  ASSERT_EQ(boundaries.size(), 512u);
  ASSERT_EQ(boundaries.back(), bytes.size());
  // Every size up to 64 bytes, then around every 16th token boundary: each
  // byte of the next token's 8-byte header and the first bytes of its text.
  std::vector<size_t> sizes;
  for (size_t size = 0; size <= 64; ++size) sizes.push_back(size);
  for (size_t t = 0; t + 1 < boundaries.size(); t += 16)
    for (size_t d = 0; d <= 11; ++d) sizes.push_back(boundaries[t] - 1 + d);
  size_t cut_mid_token = 0;
  for (size_t size : sizes) {
    std::string path = write_temp("tok_cut.bin", bytes.substr(0, size));
    auto boundary = std::find(boundaries.begin(), boundaries.end(), size);
    if (boundary != boundaries.end()) {
      EXPECT_EQ(load_llama2c_vocab(path).size(), boundary - boundaries.begin() + 1) << "size " << size;
      continue;
    }
    ++cut_mid_token;
    try {
      load_llama2c_vocab(path);
      ADD_FAILURE() << "a file cut to " << size << " bytes loaded";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
  EXPECT_GT(cut_mid_token, 300u);
}

TEST(Llama2cVocab, CorruptHeadersAndLengthsFail) {
  LMPACK_REQUIRE_SHARED();
  std::string bytes = read_text_file(tok512_path());
  auto expect_error = [](const std::string& path, const std::string& needle) {
    try {
      load_llama2c_vocab(path);
      ADD_FAILURE() << "loaded " << path;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  auto patch_int = [&](size_t offset, int32_t value) {
    std::string b = bytes;
    std::memcpy(b.data() + offset, &value, 4);
    return b;
  };
  // Token 0 ("<unk>") starts at offset 4: score at 4, length at 8.
  expect_error(write_temp("huge_len.bin", patch_int(8, 0x7FFFFFFF)), "length 2147483647");
  expect_error(write_temp("neg_len.bin", patch_int(8, -5)), "length -5");
  expect_error(write_temp("zero_max.bin", patch_int(0, 0)), "max_token_length is 0");
  expect_error(write_temp("neg_max.bin", patch_int(0, -1)), "max_token_length is -1");
  expect_error(write_temp("nan_score.bin", patch_int(4, 0x7FC00000)), "non-finite score");
  expect_error(write_temp("header_only.bin", bytes.substr(0, 4)), "no tokens");
  expect_error(write_temp("empty.bin", ""), "empty.bin");
  expect_error(shared_path("models/stories260K/missing_tok.bin"), "missing_tok.bin");
}

}  // namespace
}  // namespace lmpack
