#include "core/error.h"
#include "formats/format.h"

namespace lmpack {

const FormatOps* find_format_ops(DType type) {
  if (const FormatOps* ops = find_float_format_ops(type)) return ops;
  if (const FormatOps* ops = find_legacy_format_ops(type)) return ops;
  return find_k_format_ops(type);
}

const FormatOps& format_ops(DType type) {
  const FormatOps* ops = find_format_ops(type);
  if (ops == nullptr) throw Error(dtype_name(type), "has no encoder/dot product in this build");
  return *ops;
}

}  // namespace lmpack
