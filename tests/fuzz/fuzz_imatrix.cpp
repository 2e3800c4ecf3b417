// Harness over imatrix bytes (GGUF or legacy .dat): parse_imatrix, and every
// importance it returns must be finite and non-negative, since quantizers
// weigh errors by it.
#include <cmath>

#include "fuzz_check.h"
#include "fuzz_harness.h"
#include "io/imatrix.h"

namespace lmpack::fuzz {

void fuzz_imatrix(const uint8_t* data, size_t size) {
  run_checked([&] {
    const ImportanceMatrix m = parse_imatrix(data, size, kWhere);
    LMPACK_FUZZ_CHECK(!m.values.empty());
    LMPACK_FUZZ_CHECK(m.chunk_count >= 0 && m.chunk_size >= 0);
    for (const auto& [name, values] : m.values) {
      LMPACK_FUZZ_CHECK(!values.empty());
      for (float v : values) LMPACK_FUZZ_CHECK(std::isfinite(v) && v >= 0.0f, "importance ", v);
    }
  });
}

}  // namespace lmpack::fuzz
