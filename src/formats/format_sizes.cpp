// Block sizes of every DType: the format table's row, or one plain value.
#include "formats/format_sizes.h"

#include "core/error.h"
#include "formats/format.h"

namespace lmpack {
namespace {

struct BlockSize {
  int64_t elements;
  int64_t bytes;
};

// Types with no codec: one value per block.
struct PlainType {
  DType type;
  int64_t bytes;
};

constexpr PlainType kPlainTypes[] = {
    {DType::I8, sizeof(int8_t)},   {DType::I16, sizeof(int16_t)}, {DType::I32, sizeof(int32_t)},
    {DType::I64, sizeof(int64_t)}, {DType::F64, sizeof(double)},
};
static_assert(sizeof(double) == 8, "GGML's f64 is 8 bytes");

BlockSize block_size(DType type) {
  if (const FormatOps* ops = find_format_ops(type)) return {ops->block_elements, ops->block_bytes};
  const PlainType* plain = nullptr;
  for (const PlainType& p : kPlainTypes)
    if (p.type == type) plain = &p;
  LMPACK_CHECK(plain != nullptr, cat("unknown dtype id ", static_cast<uint32_t>(type)));
  return {1, plain->bytes};
}

}  // namespace

int64_t dtype_block_elements(DType type) { return block_size(type).elements; }

int64_t dtype_block_bytes(DType type) { return block_size(type).bytes; }

size_t dtype_bytes(DType type, int64_t n_elements) {
  const BlockSize b = block_size(type);
  LMPACK_DCHECK(n_elements % b.elements == 0);
  return static_cast<size_t>(n_elements / b.elements * b.bytes);
}

bool dtype_row_fits(DType type, int64_t row_elements) { return row_elements % block_size(type).elements == 0; }

}  // namespace lmpack
