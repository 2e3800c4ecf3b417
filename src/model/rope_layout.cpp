// RoPE row layouts; see rope_layout.h.
#include "model/rope_layout.h"

#include <cstring>
#include <memory>
#include <vector>

#include "core/error.h"
#include "model/tensor_names.h"

namespace lmpack {

int64_t rope_heads(const std::string& name, const ModelConfig& config) {
  if (is_query_or_key_norm(name)) return 1;
  if (!is_query_or_key(name)) return 0;
  return name.find(".attn_q.") != std::string::npos ? config.n_heads : config.n_kv_heads;
}

int64_t adjacent_index(int64_t halves_position, int64_t head_dim, int64_t rotary_dims) {
  const int64_t turned = rotary_dims > 0 ? rotary_dims : head_dim;
  const int64_t half = turned / 2;
  const int64_t head = halves_position / head_dim, within = halves_position % head_dim;
  if (within >= turned) return halves_position;
  const int64_t c = within / half, i = within % half;
  return head * head_dim + 2 * i + c;
}

void permute_rope_rows(void* dst, const void* src, int64_t n_heads, int64_t head_dim, size_t row_bytes,
                       RopeLayout from, int64_t rotary_dims) {
  LMPACK_CHECK(head_dim % 2 == 0 && dst != src);
  auto* out = static_cast<uint8_t*>(dst);
  const auto* in = static_cast<const uint8_t*>(src);
  for (int64_t halves = 0; halves < n_heads * head_dim; ++halves) {
    const auto adjacent = static_cast<size_t>(adjacent_index(halves, head_dim, rotary_dims));
    const size_t to = from == RopeLayout::kHalves ? adjacent : static_cast<size_t>(halves);
    const size_t fr = from == RopeLayout::kHalves ? static_cast<size_t>(halves) : adjacent;
    std::memcpy(out + to * row_bytes, in + fr * row_bytes, row_bytes);
  }
}

void rope_rows_halves_to_adjacent(Checkpoint& ckpt) {
  const ModelConfig& c = ckpt.config;
  for (auto& [name, t] : ckpt.tensors) {
    const int64_t heads = rope_heads(name, c);
    if (heads == 0) continue;
    const int64_t rows = t.shape.empty() ? 0 : t.shape[0];
    // A mis-shaped tensor (or an odd head dimension, or rows of no bytes) is
    // left as it is: validation names it. The config is not validated yet (a
    // GGUF's head counts may be anything).
    int64_t expected_rows = 0;
    if (__builtin_mul_overflow(heads, c.head_dim, &expected_rows)) continue;
    if (rows != expected_rows || rows == 0 || c.head_dim % 2 != 0 || c.rotary_dims % 2 != 0 ||
        c.rotary_dims < 0 || c.rotary_dims > c.head_dim || t.nbytes == 0 ||
        t.nbytes % static_cast<size_t>(rows) != 0)
      continue;
    auto buffer = std::make_shared<std::vector<uint8_t>>(t.nbytes);
    permute_rope_rows(buffer->data(), t.data, heads, c.head_dim, t.nbytes / static_cast<size_t>(rows),
                      RopeLayout::kHalves, c.rotary_dims);
    t.data = buffer->data();
    ckpt.keep_alive.push_back(buffer);
  }
}

}  // namespace lmpack
