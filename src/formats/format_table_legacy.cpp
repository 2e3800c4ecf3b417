// FormatOps rows of the 32-element block formats: Q4_0 Q4_1 Q5_0 Q5_1 Q8_0
// IQ4_NL as weights, with Q8_0 / Q8_1 activations (as in GGML: the _1
// formats take Q8_1, whose block sum carries the minimum's term), and Q8_1
// itself, an activation format. Every block holds kQK values in sizeof its
// block struct (formats/q4_0.h, ...).
#include <algorithm>
#include <array>

#include "formats/dots_x86.h"
#include "formats/format.h"
#include "formats/iq4_nl.h"
#include "formats/q4_0.h"
#include "formats/q4_1.h"
#include "formats/q5_0.h"
#include "formats/q5_1.h"
#include "formats/q8_0.h"
#include "formats/q8_1.h"

namespace lmpack {
namespace {

// `dot` is the fastest variant the active level allows. On AVX-512 machines
// that is still the AVX2 kernel: the 512-bit ones spend their gain on the
// shuffles that pair two 32-element blocks per register. Measured on this
// project's machine (4096 x 1024 matrix-vector product, min of 20, us;
// GGML's own AVX2/AVX-512 kernels from node-llama-cpp for scale):
//             avx2  avx512   ggml
//   q4_0       192     231    176
//   q4_1       206     242    190
//   q5_0       238     268    223
//   q5_1       262     290    236
//   q8_0       143     167    152
//   iq4_nl     193     229    186
// dot_by_isa keeps every variant for tests and bench/formats_bench.cpp.
// The uniform grids (all but IQ4_NL and Q8_1) also pass their row grid.
template <typename Block>
FormatOps make_ops(DType type, QuantizeRowFn quantize, DequantizeRowFn dequantize, DType dot_type, DotFn scalar,
                   DotFn avx2, DotFn avx512, RowGridFn row_grid = nullptr, SetRowCodesFn set_row_codes = nullptr,
                   int32_t code_min = 0, int32_t code_max = 0) {
  FormatOps ops{type, kQK, sizeof(Block), quantize, dequantize, dot_type, {scalar, avx2, avx512}, nullptr,
                row_grid, set_row_codes, code_min, code_max};
  const int best = std::min(static_cast<int>(active_isa()), static_cast<int>(Isa::kAvx2));
  for (int isa = best; isa >= 0 && ops.dot == nullptr; --isa) ops.dot = ops.dot_by_isa[isa];
  return ops;
}

FormatOps activation_only(FormatOps ops) {
  ops.activation_only = true;
  return ops;
}

const std::array<FormatOps, 7>& table() {
  static const std::array<FormatOps, 7> kTable = {
      make_ops<BlockQ4_0>(DType::Q4_0, quantize_row_q4_0, dequantize_row_q4_0, DType::Q8_0, dot_q4_0_q8_0_scalar,
                          dot_q4_0_q8_0_avx2, dot_q4_0_q8_0_avx512, row_grid_q4_0, set_row_codes_q4_0, -8, 7),
      make_ops<BlockQ4_1>(DType::Q4_1, quantize_row_q4_1, dequantize_row_q4_1, DType::Q8_1, dot_q4_1_q8_1_scalar,
                          dot_q4_1_q8_1_avx2, dot_q4_1_q8_1_avx512, row_grid_q4_1, set_row_codes_q4_1, 0, 15),
      make_ops<BlockQ5_0>(DType::Q5_0, quantize_row_q5_0, dequantize_row_q5_0, DType::Q8_0, dot_q5_0_q8_0_scalar,
                          dot_q5_0_q8_0_avx2, dot_q5_0_q8_0_avx512, row_grid_q5_0, set_row_codes_q5_0, -16, 15),
      make_ops<BlockQ5_1>(DType::Q5_1, quantize_row_q5_1, dequantize_row_q5_1, DType::Q8_1, dot_q5_1_q8_1_scalar,
                          dot_q5_1_q8_1_avx2, dot_q5_1_q8_1_avx512, row_grid_q5_1, set_row_codes_q5_1, 0, 31),
      make_ops<BlockQ8_0>(DType::Q8_0, quantize_row_q8_0, dequantize_row_q8_0, DType::Q8_0, dot_q8_0_q8_0_scalar,
                          dot_q8_0_q8_0_avx2, dot_q8_0_q8_0_avx512, row_grid_q8_0, set_row_codes_q8_0, -128, 127),
      make_ops<BlockIq4Nl>(DType::IQ4_NL, quantize_row_iq4_nl, dequantize_row_iq4_nl, DType::Q8_0,
                           dot_iq4_nl_q8_0_scalar, dot_iq4_nl_q8_0_avx2, dot_iq4_nl_q8_0_avx512),
      // An activation format; its dot (scalar only) is there for completeness.
      activation_only(make_ops<BlockQ8_1>(DType::Q8_1, quantize_row_q8_1, dequantize_row_q8_1, DType::Q8_1,
                                          dot_q8_1_q8_1_scalar, nullptr, nullptr)),
  };
  return kTable;
}

}  // namespace

const FormatOps* find_legacy_format_ops(DType type) {
  for (const FormatOps& ops : table())
    if (ops.type == type) return &ops;
  return nullptr;
}

}  // namespace lmpack
