// UTF-8 helpers, GPT-2's byte <-> unicode mapping and the literal-token split.
#include "tokenizer/tokenizer_text.h"

#include <algorithm>

namespace lmpack {

void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::vector<std::string_view> utf8_chars(std::string_view text) {
  std::vector<std::string_view> chars;
  chars.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    size_t n = std::min(text.size() - pos, utf8_sequence_length(static_cast<uint8_t>(text[pos])));
    chars.push_back(text.substr(pos, n));
    pos += n;
  }
  return chars;
}

namespace {

struct ByteLevelTables {
  std::array<std::string, 256> to_unicode;
  std::array<uint32_t, 256> code_point{};
  ByteLevelTables() {
    auto printable = [](int b) {
      return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    };
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      code_point[b] = printable(b) ? static_cast<uint32_t>(b) : next++;
      utf8_append(to_unicode[b], code_point[b]);
    }
  }
};

const ByteLevelTables& byte_level_tables() {
  static const ByteLevelTables tables;
  return tables;
}

// Decodes one code point at text[pos]; returns its length (1 for bad bytes,
// with cp = 0xFFFFFFFF).
size_t utf8_decode(std::string_view text, size_t pos, uint32_t& cp) {
  auto lead = static_cast<uint8_t>(text[pos]);
  size_t n = utf8_sequence_length(lead);
  if (n == 1 || pos + n > text.size()) {
    cp = lead < 0x80 ? lead : 0xFFFFFFFFu;
    return 1;
  }
  cp = lead & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
  for (size_t i = 1; i < n; ++i) {
    auto c = static_cast<uint8_t>(text[pos + i]);
    if ((c & 0xC0) != 0x80) {
      cp = 0xFFFFFFFFu;
      return 1;
    }
    cp = (cp << 6) | (c & 0x3F);
  }
  return n;
}

}  // namespace

const std::array<std::string, 256>& byte_to_unicode_table() { return byte_level_tables().to_unicode; }

int unicode_to_byte(uint32_t cp) {
  if (cp < 256) {
    const auto& t = byte_level_tables();
    return t.code_point[cp] == cp ? static_cast<int>(cp) : -1;
  }
  if (cp < 256 + 68) {
    const auto& t = byte_level_tables();
    for (int b = 0; b < 256; ++b)
      if (t.code_point[b] == cp) return b;
  }
  return -1;
}

std::string byte_level_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    uint32_t cp = 0;
    size_t n = utf8_decode(text, pos, cp);
    int b = cp == 0xFFFFFFFFu ? -1 : unicode_to_byte(cp);
    if (b >= 0) {
      out.push_back(static_cast<char>(b));
    } else {
      out.append(text.substr(pos, n));
    }
    pos += n;
  }
  return out;
}

std::string byte_level_encode(std::string_view bytes) {
  const auto& table = byte_to_unicode_table();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) out += table[static_cast<uint8_t>(c)];
  return out;
}

SpecialSplitter::SpecialSplitter(const Vocab& vocab, bool include_control) {
  for (size_t id = 0; id < vocab.tokens.size(); ++id) {
    TokenType type = id < vocab.token_types.size() ? vocab.token_types[id] : TokenType::kNormal;
    bool take = type == TokenType::kUserDefined || (include_control && type == TokenType::kControl);
    if (take && !vocab.tokens[id].empty()) specials_.emplace_back(vocab.tokens[id], static_cast<int32_t>(id));
  }
  std::stable_sort(specials_.begin(), specials_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

std::vector<TextFragment> SpecialSplitter::split(std::string_view text) const {
  std::vector<TextFragment> fragments;
  if (!text.empty()) fragments.push_back({text, -1});
  for (const auto& [piece, id] : specials_) {
    std::vector<TextFragment> next;
    next.reserve(fragments.size());
    for (const TextFragment& f : fragments) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      size_t start = 0;
      for (size_t hit = f.text.find(piece); hit != std::string_view::npos; hit = f.text.find(piece, start)) {
        if (hit > start) next.push_back({f.text.substr(start, hit - start), -1});
        next.push_back({std::string_view(), id});
        start = hit + piece.size();
      }
      if (start < f.text.size()) next.push_back({f.text.substr(start), -1});
    }
    fragments.swap(next);
  }
  return fragments;
}

}  // namespace lmpack
