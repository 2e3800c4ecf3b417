// Byte-level BPE. Merges are keyed by the ids of their two sides, so a pair
// lookup costs one hash of a 64-bit key; symbols form a linked list per word
// and pairs sit in a min-heap by rank (then leftmost), as in the SPM encoder.
#include "tokenizer/tokenizer_bpe.h"

#include <queue>

#include "core/error.h"
#include "core/printable.h"

namespace lmpack {
namespace {

struct Symbol {
  int32_t prev;
  int32_t next;
  uint32_t start;
  uint32_t size;  // 0 once merged into its left neighbour
  int32_t id;     // token of this symbol's text, or -1
};

struct Pair {
  int32_t rank;
  int32_t left;
  int32_t right;
  int32_t left_id;  // ids at push time, to detect stale pairs
  int32_t right_id;
  int32_t result;
};

struct PairOrder {  // min-heap: lowest rank first, then the leftmost pair
  bool operator()(const Pair& a, const Pair& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

}  // namespace

BpeTokenizer::BpeTokenizer(Vocab vocab, const std::string& where)
    : Tokenizer(std::move(vocab)), where_(where), pre_(vocab_.pre, where), specials_(vocab_, false) {
  const size_t n = vocab_.tokens.size();
  if (!vocab_.token_types.empty() && vocab_.token_types.size() != n)
    throw Error(where_, cat("vocabulary has ", n, " tokens but ", vocab_.token_types.size(), " token types"));
  if (vocab_.token_types.empty()) vocab_.token_types.assign(n, TokenType::kNormal);
  token_to_id_.reserve(n * 2);
  for (size_t id = 0; id < n; ++id) token_to_id_.emplace(std::string_view(vocab_.tokens[id]), static_cast<int32_t>(id));

  merges_.reserve(vocab_.merges.size() * 2);
  std::string joined;
  for (size_t rank = 0; rank < vocab_.merges.size(); ++rank) {
    const std::string& merge = vocab_.merges[rank];
    size_t space = merge.find(' ', 1);
    if (space == std::string::npos || space + 1 >= merge.size())
      throw Error(where_, cat("merge ", rank, " is '", printable(merge), "', expected two pieces separated by one space"));
    std::string_view left(merge.data(), space);
    std::string_view right(merge.data() + space + 1, merge.size() - space - 1);
    joined.assign(left);
    joined.append(right);
    int32_t left_id = find_token(left), right_id = find_token(right), result = find_token(joined);
    // A merge whose pieces are not tokens can never apply to token symbols.
    if (left_id < 0 || right_id < 0 || result < 0) continue;
    merges_.emplace(pair_key(left_id, right_id), Merge{static_cast<int32_t>(rank), result});  // lowest rank wins
  }
}

int32_t BpeTokenizer::find_token(std::string_view piece) const {
  auto it = token_to_id_.find(piece);
  return it == token_to_id_.end() ? -1 : it->second;
}

std::vector<int32_t> BpeTokenizer::encode(std::string_view text, bool add_bos) const {
  std::vector<int32_t> out;
  if (add_bos && vocab_.bos_id >= 0) out.push_back(vocab_.bos_id);
  const auto& to_unicode = byte_to_unicode_table();
  std::string word;
  for (const TextFragment& fragment : specials_.split(text)) {
    if (fragment.token >= 0) {
      out.push_back(fragment.token);
      continue;
    }
    for (std::string_view piece : pre_.split(fragment.text)) {
      word.clear();
      for (char c : piece) word += to_unicode[static_cast<uint8_t>(c)];
      encode_word(word, out);
    }
  }
  return out;
}

void BpeTokenizer::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (pre_.ignore_merges()) {
    int32_t id = find_token(word);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  for (size_t pos = 0; pos < word.size();) {
    size_t n = std::min(word.size() - pos, utf8_sequence_length(static_cast<uint8_t>(word[pos])));
    int32_t index = static_cast<int32_t>(symbols.size());
    symbols.push_back({index - 1, pos + n < word.size() ? index + 1 : -1, static_cast<uint32_t>(pos),
                       static_cast<uint32_t>(n), find_token(word.substr(pos, n))});
    pos += n;
  }
  std::priority_queue<Pair, std::vector<Pair>, PairOrder> queue;
  auto try_pair = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    int32_t a = symbols[left].id, b = symbols[right].id;
    if (a < 0 || b < 0) return;
    auto it = merges_.find(pair_key(a, b));
    if (it == merges_.end()) return;
    queue.push({it->second.rank, left, right, a, b, it->second.result});
  };
  for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) try_pair(i - 1, i);

  while (!queue.empty()) {
    Pair pair = queue.top();
    queue.pop();
    Symbol& left = symbols[pair.left];
    Symbol& right = symbols[pair.right];
    if (left.size == 0 || right.size == 0 || left.next != pair.right || left.id != pair.left_id ||
        right.id != pair.right_id)
      continue;  // stale
    left.size += right.size;
    left.id = pair.result;
    right.size = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = pair.left;
    try_pair(left.prev, pair.left);
    try_pair(pair.left, left.next);
  }

  for (int32_t i = 0; i >= 0; i = symbols[i].next) {
    const Symbol& s = symbols[i];
    if (s.id >= 0) {
      out.push_back(s.id);
      continue;
    }
    // Not a token (a character missing from the vocabulary): emit what its
    // pieces map to, the unknown token otherwise, as llama.cpp does.
    for (std::string_view c : utf8_chars(word.substr(s.start, s.size))) {
      int32_t id = find_token(c);
      if (id < 0) id = vocab_.unk_id;
      if (id >= 0) out.push_back(id);
    }
  }
}

std::string BpeTokenizer::decode_token(int32_t prev, int32_t id) const {
  if (id < 0 || id >= vocab_.size())
    throw Error(where_, cat("token id ", id, " is outside the vocabulary of ", vocab_.size()));
  switch (vocab_.token_types[id]) {
    case TokenType::kControl:
      return std::string();
    case TokenType::kUserDefined:
      return vocab_.tokens[id];
    default:
      return byte_level_decode(vocab_.tokens[id]);
  }
}

}  // namespace lmpack
