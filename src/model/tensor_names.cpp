// Canonical tensor names; see tensor_names.h.
#include "model/tensor_names.h"

#include "core/error.h"

namespace lmpack {

bool split_block(const std::string& name, int64_t* layer, std::string* rest) {
  if (name.compare(0, 4, "blk.") != 0) return false;
  const size_t dot = name.find('.', 4);
  if (dot == std::string::npos || dot == 4) return false;
  int64_t n = 0;
  for (size_t i = 4; i < dot; ++i) {
    if (name[i] < '0' || name[i] > '9' || n > (int64_t{1} << 40)) return false;
    n = n * 10 + (name[i] - '0');
  }
  *layer = n;
  *rest = name.substr(dot + 1);
  return true;
}

const std::vector<std::string>& block_linear_suffixes() {
  static const std::vector<std::string> kSuffixes = {"attn_q.weight",   "attn_k.weight", "attn_v.weight",
                                                     "attn_output.weight", "ffn_gate.weight", "ffn_up.weight",
                                                     "ffn_down.weight"};
  return kSuffixes;
}

std::vector<std::string> block_linear_names(int64_t layer) {
  std::vector<std::string> names;
  for (const std::string& s : block_linear_suffixes()) names.push_back(cat("blk.", layer, ".", s));
  return names;
}

bool is_query_or_key(const std::string& name) {
  int64_t layer = 0;
  std::string rest;
  return split_block(name, &layer, &rest) &&
         (rest == "attn_q.weight" || rest == "attn_k.weight" || rest == "attn_q.bias" || rest == "attn_k.bias");
}

}  // namespace lmpack
