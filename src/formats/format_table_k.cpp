// The FormatOps rows of the k-quants (Q2_K ... Q6_K) and of their activation
// format Q8_K. Every k-quant takes its dot product against Q8_K rows; the
// per-ISA variants live in k_quant_dots_{avx2,avx512}.cpp and `dot` is the
// best one for active_isa(), chosen when the table is first read. Every
// super-block holds kQK_K values in sizeof its block struct (formats/q4_k.h, ...).
#include <array>

#include "formats/format.h"
#include "formats/k_quant_dots.h"
#include "formats/q2_k.h"
#include "formats/q3_k.h"
#include "formats/q4_k.h"
#include "formats/q5_k.h"
#include "formats/q6_k.h"
#include "formats/q8_k.h"

namespace lmpack {

namespace {

template <typename Block>
FormatOps k_row(DType type, QuantizeRowFn quantize, DequantizeRowFn dequantize, DotFn scalar, DotFn avx2,
                DotFn avx512, RowGridFn row_grid = nullptr, SetRowCodesFn set_row_codes = nullptr,
                int32_t code_min = 0, int32_t code_max = 0) {
  FormatOps ops{};
  ops.type = type;
  ops.block_elements = kQK_K;
  ops.block_bytes = sizeof(Block);
  ops.quantize_row = quantize;
  ops.dequantize_row = dequantize;
  ops.dot_type = DType::Q8_K;
  ops.row_grid = row_grid;
  ops.set_row_codes = set_row_codes;
  ops.code_min = code_min;
  ops.code_max = code_max;
  ops.dot_by_isa[static_cast<int>(Isa::kScalar)] = scalar;
  ops.dot_by_isa[static_cast<int>(Isa::kAvx2)] = avx2;
  ops.dot_by_isa[static_cast<int>(Isa::kAvx512)] = avx512;
  // The best variant the active ISA allows (a missing one falls back down).
  ops.dot = scalar;
  for (int isa = 0; isa <= static_cast<int>(active_isa()); ++isa)
    if (ops.dot_by_isa[isa] != nullptr) ops.dot = ops.dot_by_isa[isa];
  return ops;
}

FormatOps activation_only(FormatOps ops) {
  ops.activation_only = true;
  return ops;
}

const std::array<FormatOps, 6>& k_table() {
  static const std::array<FormatOps, 6> table = {
      k_row<BlockQ2_K>(DType::Q2_K, quantize_row_q2_k, dequantize_row_q2_k, dot_q2_k_q8_k_scalar,
                       dot_q2_k_q8_k_avx2, dot_q2_k_q8_k_avx512, row_grid_q2_k, set_row_codes_q2_k, 0, 3),
      k_row<BlockQ3_K>(DType::Q3_K, quantize_row_q3_k, dequantize_row_q3_k, dot_q3_k_q8_k_scalar,
                       dot_q3_k_q8_k_avx2, dot_q3_k_q8_k_avx512, row_grid_q3_k, set_row_codes_q3_k, -4, 3),
      k_row<BlockQ4_K>(DType::Q4_K, quantize_row_q4_k, dequantize_row_q4_k, dot_q4_k_q8_k_scalar,
                       dot_q4_k_q8_k_avx2, dot_q4_k_q8_k_avx512, row_grid_q4_k, set_row_codes_q4_k, 0, 15),
      k_row<BlockQ5_K>(DType::Q5_K, quantize_row_q5_k, dequantize_row_q5_k, dot_q5_k_q8_k_scalar,
                       dot_q5_k_q8_k_avx2, dot_q5_k_q8_k_avx512, row_grid_q5_k, set_row_codes_q5_k, 0, 31),
      k_row<BlockQ6_K>(DType::Q6_K, quantize_row_q6_k, dequantize_row_q6_k, dot_q6_k_q8_k_scalar,
                       dot_q6_k_q8_k_avx2, dot_q6_k_q8_k_avx512, row_grid_q6_k, set_row_codes_q6_k, -32, 31),
      activation_only(k_row<BlockQ8_K>(DType::Q8_K, quantize_row_q8_k, dequantize_row_q8_k, dot_q8_k_q8_k_scalar,
                                       nullptr, nullptr)),
  };
  return table;
}

}  // namespace

const FormatOps* find_k_format_ops(DType type) {
  for (const FormatOps& ops : k_table())
    if (ops.type == type) return &ops;
  return nullptr;
}

}  // namespace lmpack
