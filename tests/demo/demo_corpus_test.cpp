// The demo's generated stories and their word vocabulary: the same seed
// gives the same stories, other seeds others; each story asks for one of its
// three colors again and the answer is the color it gave; the vocabulary
// tokenizes every story into whole words with no byte or unknown token, and
// decodes back to the text.
#include "demo/demo_corpus.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <regex>

#include "demo/word_vocab.h"
#include "tokenizer/tokenizer.h"

namespace lmpack {
namespace {

TEST(DemoCorpus, SeededAndVaried) {
  const std::vector<std::string> a = demo_stories(50, 7), b = demo_stories(50, 7), c = demo_stories(50, 8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::set<std::string> distinct(a.begin(), a.end());
  EXPECT_EQ(distinct.size(), a.size());
  const std::string text = demo_text(a);
  size_t separators = 0;
  for (size_t at = text.find(kDemoStorySeparator); at != std::string::npos; at = text.find(kDemoStorySeparator, at + 1))
    ++separators;
  EXPECT_EQ(separators, a.size() - 1);
}

TEST(DemoCorpus, EveryStoryAsksAgainForAColorItGave) {
  const std::regex had(R"(had a (\w+) (\w+), a (\w+) (\w+) and a (\w+) (\w+)\.)");
  const std::regex asked(R"(looked at the (\w+)\. It was (\w+)\.)");
  for (const std::string& s : demo_stories(300, 3)) {
    std::smatch h, q;
    ASSERT_TRUE(std::regex_search(s, h, had)) << s;
    ASSERT_TRUE(std::regex_search(s, q, asked)) << s;
    std::map<std::string, std::string> color = {{h[2], h[1]}, {h[4], h[3]}, {h[6], h[5]}};
    ASSERT_EQ(color.size(), 3u) << s;  // three different things
    ASSERT_TRUE(color.count(q[1])) << s;
    EXPECT_EQ(color.at(q[1]), q[2].str()) << s;
  }
}

TEST(WordVocab, WholeWordsNoFallbackAndExactRoundTrip) {
  const std::vector<std::string> stories = demo_stories(2000, 1);
  const Vocab v = word_vocab(demo_text(stories));
  EXPECT_EQ(v.model, "llama");
  EXPECT_EQ(v.tokens[v.bos_id], "<s>");
  EXPECT_LT(v.size(), 1024);
  std::unique_ptr<Tokenizer> tok = make_tokenizer(v, "word vocab");
  // Stories it was not built from: the same grammar, so the same words.
  for (const std::string& s : demo_stories(100, 99)) {
    const std::vector<int32_t> ids = tok->encode(s, false);
    size_t words = 0, marks = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      if ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')) {
        if (i == 0 || s[i - 1] == ' ') ++words;
      } else if (s[i] != ' ') {
        ++marks;
      }
    }
    EXPECT_EQ(ids.size(), words + marks) << s;  // one token per word and per mark
    for (int32_t id : ids) {
      EXPECT_EQ(v.token_types[id], TokenType::kNormal) << v.tokens[id] << " in " << s;
      EXPECT_NE(id, v.unk_id);
    }
    std::string back = tok->decode(ids);
    if (!back.empty() && back[0] == ' ') back.erase(0, 1);  // the ▁ the tokenizer put before the first word
    EXPECT_EQ(back, s);
  }
}

}  // namespace
}  // namespace lmpack
