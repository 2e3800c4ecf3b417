// SentencePiece-style BPE: a doubly linked list of symbols over the escaped
// text and a max-heap of adjacent pairs keyed by the merged token's score.
// Each merge pushes at most two new pairs, so encoding is O(n log n); pairs
// made stale by an earlier merge are recognised and skipped when popped.
#include "tokenizer/tokenizer_spm.h"

#include <cmath>
#include <cstdio>
#include <queue>

#include "core/error.h"
#include "core/printable.h"

namespace lmpack {
namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // "▁"

bool producible(TokenType type) {
  return type == TokenType::kNormal || type == TokenType::kUserDefined || type == TokenType::kUndefined;
}

// "<0xXX>" -> XX, else -1.
int parse_byte_piece(const std::string& piece) {
  if (piece.size() != 6 || piece.compare(0, 3, "<0x") != 0 || piece[5] != '>') return -1;
  int value = 0;
  for (int i = 3; i < 5; ++i) {
    char c = piece[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return -1;
    value = value * 16 + d;
  }
  return value;
}

struct Symbol {
  int32_t prev;
  int32_t next;
  uint32_t start;  // byte offset into the escaped text
  uint32_t size;   // 0 once merged into its left neighbour
};

struct Pair {
  float score;
  int32_t left;
  int32_t right;
  uint32_t size;  // bytes of the merged piece, to detect stale pairs
};

struct PairOrder {  // max-heap: higher score first, then the leftmost pair
  bool operator()(const Pair& a, const Pair& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

}  // namespace

SpmTokenizer::SpmTokenizer(Vocab vocab, const std::string& where)
    : Tokenizer(std::move(vocab)), where_(where), specials_(vocab_, /*include_control=*/false) {
  const size_t n = vocab_.tokens.size();
  if (vocab_.scores.size() != n)
    throw Error(where_, cat("SPM vocabulary has ", n, " tokens but ", vocab_.scores.size(), " scores"));
  if (!vocab_.token_types.empty() && vocab_.token_types.size() != n)
    throw Error(where_, cat("SPM vocabulary has ", n, " tokens but ", vocab_.token_types.size(), " token types"));
  if (vocab_.token_types.empty()) vocab_.token_types.assign(n, TokenType::kNormal);
  byte_to_id_.fill(-1);
  byte_value_.assign(n, -1);
  piece_to_id_.reserve(n * 2);
  for (size_t id = 0; id < n; ++id) {
    if (!std::isfinite(vocab_.scores[id]))
      throw Error(where_, cat("score of token ", id, " is ", vocab_.scores[id], " (must be finite)"));
    const std::string& piece = vocab_.tokens[id];
    TokenType type = vocab_.token_types[id];
    if (type == TokenType::kByte) {
      int b = parse_byte_piece(piece);
      if (b < 0) throw Error(where_, cat("byte token ", id, " is spelled '", printable(piece), "', expected <0xXX>"));
      byte_value_[id] = static_cast<int16_t>(b);
      if (byte_to_id_[b] < 0) byte_to_id_[b] = static_cast<int32_t>(id);
    } else if (producible(type) && !piece.empty()) {
      piece_to_id_.emplace(std::string_view(piece), static_cast<int32_t>(id));  // first id wins
    }
  }
  // Vocabularies that spell byte tokens <0xXX> but type them normal.
  for (int b = 0; b < 256; ++b) {
    if (byte_to_id_[b] >= 0) continue;
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    auto it = piece_to_id_.find(name);
    if (it != piece_to_id_.end()) byte_to_id_[b] = it->second;
  }
}

int32_t SpmTokenizer::find_piece(std::string_view piece) const {
  auto it = piece_to_id_.find(piece);
  return it == piece_to_id_.end() ? -1 : it->second;
}

std::vector<int32_t> SpmTokenizer::encode(std::string_view text, bool add_bos) const {
  std::vector<int32_t> out;
  if (add_bos && vocab_.bos_id >= 0) out.push_back(vocab_.bos_id);
  bool prev_special = true;  // the text start counts as "after a special token"
  std::string escaped;
  for (const TextFragment& fragment : specials_.split(text)) {
    if (fragment.token >= 0) {
      out.push_back(fragment.token);
      prev_special = true;
      continue;
    }
    escaped.clear();
    escaped.reserve(fragment.text.size() + fragment.text.size() / 4 + 3);
    if (vocab_.add_space_prefix && prev_special) escaped += kSpace;
    for (char c : fragment.text) {
      if (c == ' ') {
        escaped += kSpace;
      } else {
        escaped.push_back(c);
      }
    }
    encode_escaped(escaped, out);
    prev_special = false;
  }
  return out;
}

void SpmTokenizer::encode_escaped(std::string_view text, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  if (text.size() >= UINT32_MAX) throw Error(where_, cat("text of ", text.size(), " bytes is too long to encode"));
  std::vector<Symbol> symbols;
  symbols.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    size_t n = std::min(text.size() - pos, utf8_sequence_length(static_cast<uint8_t>(text[pos])));
    int32_t index = static_cast<int32_t>(symbols.size());
    symbols.push_back({index - 1, pos + n < text.size() ? index + 1 : -1, static_cast<uint32_t>(pos),
                       static_cast<uint32_t>(n)});
    pos += n;
  }

  std::vector<Pair> storage;
  storage.reserve(symbols.size());
  std::priority_queue<Pair, std::vector<Pair>, PairOrder> queue(PairOrder{}, std::move(storage));
  auto try_pair = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const Symbol& a = symbols[left];
    const Symbol& b = symbols[right];
    int32_t id = find_piece(text.substr(a.start, a.size + b.size));
    if (id < 0) return;
    queue.push({vocab_.scores[id], left, right, a.size + b.size});
  };
  for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) try_pair(i - 1, i);

  while (!queue.empty()) {
    Pair pair = queue.top();
    queue.pop();
    Symbol& left = symbols[pair.left];
    Symbol& right = symbols[pair.right];
    if (left.size == 0 || right.size == 0 || left.next != pair.right || left.size + right.size != pair.size)
      continue;  // stale: one side merged elsewhere since this pair was pushed
    left.size += right.size;
    right.size = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = pair.left;
    try_pair(left.prev, pair.left);
    try_pair(pair.left, left.next);
  }

  for (int32_t i = 0; i >= 0; i = symbols[i].next) {
    const Symbol& s = symbols[i];
    int32_t id = find_piece(text.substr(s.start, s.size));
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    for (uint32_t k = 0; k < s.size; ++k) {
      int32_t byte_id = byte_to_id_[static_cast<uint8_t>(text[s.start + k])];
      if (byte_id < 0) byte_id = vocab_.unk_id;
      if (byte_id < 0)
        throw Error(where_, cat("no token for byte 0x", std::hex, static_cast<int>(static_cast<uint8_t>(text[s.start + k])),
                                " and the vocabulary has neither <0xXX> byte tokens nor an unknown token"));
      out.push_back(byte_id);
    }
  }
}

std::string SpmTokenizer::decode_token(int32_t prev, int32_t id) const {
  if (id < 0 || id >= vocab_.size())
    throw Error(where_, cat("token id ", id, " is outside the vocabulary of ", vocab_.size()));
  TokenType type = vocab_.token_types[id];
  if (type == TokenType::kControl) return std::string();
  if (byte_value_[id] >= 0) return std::string(1, static_cast<char>(byte_value_[id]));
  const std::string& piece = vocab_.tokens[id];
  std::string text;
  text.reserve(piece.size());
  for (size_t pos = 0; pos < piece.size();) {
    if (piece.compare(pos, kSpace.size(), kSpace) == 0) {
      text.push_back(' ');
      pos += kSpace.size();
    } else {
      text.push_back(piece[pos++]);
    }
  }
  if (prev >= 0 && prev == vocab_.bos_id && vocab_.add_space_prefix && !text.empty() && text[0] == ' ')
    text.erase(0, 1);
  return text;
}

}  // namespace lmpack
