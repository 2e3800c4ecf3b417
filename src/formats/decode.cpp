// decode_to_f32: a DType's row decoder, from the format table.
#include "formats/decode.h"

#include "core/error.h"
#include "formats/format.h"
#include "formats/format_sizes.h"

namespace lmpack {
namespace {

// The table row that decodes `type`, or nullptr.
const FormatOps* find_decoder(DType type) {
  const FormatOps* ops = find_format_ops(type);
  return ops != nullptr && !ops->activation_only ? ops : nullptr;
}

}  // namespace

bool decodable_to_f32(DType type) { return find_decoder(type) != nullptr; }

void decode_to_f32(float* out, const void* in, DType type, int64_t n) {
  LMPACK_CHECK(n >= 0 && n % dtype_block_elements(type) == 0, cat(n, " elements of ", dtype_name(type)));
  const FormatOps* ops = find_decoder(type);
  if (ops == nullptr) throw Error(dtype_name(type), "cannot be decoded");
  ops->dequantize_row(out, in, n);
}

}  // namespace lmpack
