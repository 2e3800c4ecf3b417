// Explaining a result that is not a number. When a forward pass yields NaN or
// Inf (a perplexity of nan, logits nothing can be sampled from), the caller
// throws one error that says where the model's weights stop being finite:
// every stored tensor is decoded row by row and the first NaN/Inf is named.
// The scan reads the whole model, so it runs only on that error path.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "io/tensor_info.h"
#include "runtime/weights.h"

namespace lmpack {

struct NonFiniteWeight {
  std::string tensor;
  int64_t row = 0;
  int64_t col = 0;
  float value = 0.0f;
};

// The first non-finite value in name order, or nullopt when every value of
// every decodable tensor is finite.
std::optional<NonFiniteWeight> find_non_finite_weight(const std::map<std::string, TensorInfo>& tensors);

// "<source>: <what>: tensor blk.2.attn_q.weight row 5 column 64 holds nan",
// or, when every weight is finite, that the forward pass overflowed.
std::string explain_non_finite(const ModelWeights& weights, std::string_view what);

}  // namespace lmpack
