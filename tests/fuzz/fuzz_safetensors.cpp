// Harness over safetensors bytes: parse_safetensors, then every tensor must lie
// inside the data section, hold exactly its dtype x shape bytes, and no two
// non-empty tensors may overlap.
#include "core/dtype.h"
#include "formats/format_sizes.h"
#include "fuzz_check.h"
#include "fuzz_harness.h"
#include "io/safetensors.h"

namespace lmpack::fuzz {

void fuzz_safetensors(const uint8_t* data, size_t size) {
  run_checked([&] {
    const SafetensorsFile st = parse_safetensors(data, size, kWhere);
    LMPACK_FUZZ_CHECK(st.data_offset == 8 + st.header_size && st.data_offset <= size);
    const uint8_t* end = nullptr;
    for (const TensorInfo& t : st.tensors) {
      LMPACK_FUZZ_CHECK(t.data >= data + st.data_offset && t.data <= data + size &&
                        t.nbytes <= static_cast<size_t>(data + size - t.data), "tensor outside the input");
      LMPACK_FUZZ_CHECK(t.nbytes == dtype_bytes(t.dtype, t.n_elements()), "tensor byte count");
      if (t.nbytes == 0) continue;
      LMPACK_FUZZ_CHECK(end == nullptr || t.data >= end, "tensors overlap");
      end = t.data + t.nbytes;
    }
  });
}

}  // namespace lmpack::fuzz
