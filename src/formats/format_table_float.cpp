// TEMPORARY until the family's formats land: no ops yet.
#include "formats/format.h"

namespace lmpack {

const FormatOps* find_float_format_ops(DType) { return nullptr; }

}  // namespace lmpack
