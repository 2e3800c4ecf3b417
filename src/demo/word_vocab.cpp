// word_vocab; see word_vocab.h.
#include "demo/word_vocab.h"

#include <cstdio>
#include <set>

namespace lmpack {
namespace {

constexpr const char* kSpace = "\xe2\x96\x81";  // U+2581, SentencePiece's space

bool word_char(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '\''; }

}  // namespace

Vocab word_vocab(const std::string& text) {
  Vocab v;
  v.model = "llama";
  v.pre = "default";
  auto add = [&](const std::string& piece, float score, TokenType type) {
    v.tokens.push_back(piece);
    v.scores.push_back(score);
    v.token_types.push_back(type);
  };
  add("<unk>", 0.0f, TokenType::kUnknown);
  add("<s>", 0.0f, TokenType::kControl);
  add("</s>", 0.0f, TokenType::kControl);
  v.unk_id = 0;
  v.bos_id = 1;
  v.eos_id = 2;
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    add(name, 0.0f, TokenType::kByte);
  }
  // Characters (a space is SentencePiece's ▁), then words' prefix chains.
  std::set<std::string> chars = {kSpace};
  std::set<std::string> words;
  for (size_t i = 0; i < text.size();) {
    if (word_char(text[i])) {
      size_t j = i;
      while (j < text.size() && word_char(text[j])) ++j;
      // A word after a space, or a line's first (a document's first: the
      // tokenizer adds a ▁ before it).
      if (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\n') words.insert(text.substr(i, j - i));
      i = j;
      continue;
    }
    const auto c = static_cast<unsigned char>(text[i++]);
    if (c > 0x20 && c < 0x7f) chars.insert(std::string(1, static_cast<char>(c)));
  }
  for (char c = 'a'; c <= 'z'; ++c) chars.insert(std::string(1, c));
  for (char c = 'A'; c <= 'Z'; ++c) chars.insert(std::string(1, c));
  float score = -1.0f;
  for (const std::string& c : chars) add(c, score, TokenType::kNormal);
  std::set<std::string> pieces;
  for (const std::string& w : words)
    for (size_t k = 1; k <= w.size(); ++k) pieces.insert(kSpace + w.substr(0, k));
  // Longer pieces merge later: shorter prefixes score higher, so each word
  // is built from its start.
  for (const std::string& p : pieces) add(p, -1.0f - static_cast<float>(p.size()), TokenType::kNormal);
  return v;
}

}  // namespace lmpack
