#include "model/rope_layout.h"

#include <memory>
#include <vector>

#include "model/hf_names.h"

namespace lmpack {

void rope_rows_halves_to_adjacent(Checkpoint& ckpt) {
  const ModelConfig& c = ckpt.config;
  for (auto& [name, t] : ckpt.tensors) {
    if (!is_rope_permuted(name)) continue;
    const bool is_q = name.find(".attn_q.") != std::string::npos;
    const int64_t heads = is_q ? c.n_heads : c.n_kv_heads;
    const int64_t rows = t.shape.empty() ? 0 : t.shape[0];
    // A mis-shaped tensor (or an odd head dimension, or rows of no bytes) is
    // left as it is: validation names it. The config is not validated yet (a
    // GGUF's head counts may be anything).
    int64_t expected_rows = 0;
    if (__builtin_mul_overflow(heads, c.head_dim, &expected_rows)) continue;
    if (rows != expected_rows || rows == 0 || c.head_dim % 2 != 0 || t.nbytes == 0 ||
        t.nbytes % static_cast<size_t>(rows) != 0)
      continue;
    auto buffer = std::make_shared<std::vector<uint8_t>>(t.nbytes);
    permute_rope_rows(buffer->data(), t.data, heads, c.head_dim, t.nbytes / static_cast<size_t>(rows),
                      RopeLayout::kHalves);
    t.data = buffer->data();
    ckpt.keep_alive.push_back(buffer);
  }
}

}  // namespace lmpack
