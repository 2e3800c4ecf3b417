#include "runtime/non_finite.h"

#include <cmath>
#include <vector>

#include "core/error.h"
#include "formats/decode.h"
#include "formats/format_sizes.h"

namespace lmpack {

std::optional<NonFiniteWeight> find_non_finite_weight(const std::map<std::string, TensorInfo>& tensors) {
  std::vector<float> row;
  for (const auto& [name, t] : tensors) {
    if (!decodable_to_f32(t.dtype) || t.data == nullptr || t.shape.empty()) continue;
    const int64_t cols = t.cols();
    if (cols <= 0 || !dtype_row_fits(t.dtype, cols)) continue;
    const int64_t rows = t.n_elements() / cols;
    const size_t row_bytes = dtype_bytes(t.dtype, cols);
    row.resize(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      decode_to_f32(row.data(), t.data + static_cast<size_t>(r) * row_bytes, t.dtype, cols);
      for (int64_t c = 0; c < cols; ++c)
        if (!std::isfinite(row[c])) return NonFiniteWeight{name, r, c, row[c]};
    }
  }
  return std::nullopt;
}

std::string explain_non_finite(const ModelWeights& weights, std::string_view what) {
  const std::string where = weights.source.empty() ? std::string("model") : weights.source;
  if (const std::optional<NonFiniteWeight> w = find_non_finite_weight(weights.stored))
    return cat(where, ": ", what, ": tensor ", w->tensor, " row ", w->row, " column ", w->col, " holds ", w->value,
               " (a corrupt or badly converted file)");
  return cat(where, ": ", what, " although every weight is finite (the activations overflowed float32)");
}

}  // namespace lmpack
