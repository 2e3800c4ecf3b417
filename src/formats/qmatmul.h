// The linear layer over weights kept in their stored format: y = x · Wᵀ where
// W is a view of rows in any type with a FormatOps dot (Q4_0 ... Q6_K, F16,
// BF16) or plain F32. Nothing is decoded ahead of time.
//
// Activations are quantized once per input to the weight's dot_type (Q8_0,
// Q8_1 or Q8_K; F32 for float weights) and the result is shared by every
// matrix that reads the same input (q/k/v, gate/up) through
// QuantizedActivations. Two paths:
//   kDot        for each tile of W rows (parallel), every activation row
//               against every row of the tile with the format's dot; the
//               tile stays in cache while all m activation rows pass over it.
//   kDequantGemm  each thread decodes a tile of W rows to fp32 scratch and
//               runs a single-threaded sgemm of all m rows against it.
// kAuto picks kDot for m < qmatmul_gemm_min_rows(type) (generation, short
// prompts) and kDequantGemm above; the crossover was measured with
// bench/qmatmul_bench.cpp (see qmatmul.cpp for the numbers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "formats/format_sizes.h"

namespace lmpack {

// A matrix [rows, cols] as stored: row r is dtype_bytes(type, cols) bytes at
// data + r * row_bytes(). The bytes belong to someone else (a mapping).
struct WeightMatrix {
  DType type = DType::F32;
  const void* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;

  size_t row_bytes() const { return dtype_bytes(type, cols); }
  const uint8_t* row(int64_t r) const {
    return static_cast<const uint8_t*>(data) + static_cast<size_t>(r) * row_bytes();
  }
  size_t bytes() const { return static_cast<size_t>(rows) * row_bytes(); }
  bool operator==(const WeightMatrix&) const = default;
};

// True when qmatmul_xwt can use W of this type in place: F32, or a type whose
// FormatOps has a dot product.
bool qmatmul_supported(DType type);

// One input x [m, k] and its quantized copies, made on first request per
// activation type and reused until the next set().
class QuantizedActivations {
 public:
  // x: [m, k] row-major fp32, must stay valid and unchanged until the next set().
  void set(const float* x, int64_t m, int64_t k);
  const float* x() const { return x_; }
  int64_t m() const { return m_; }
  int64_t k() const { return k_; }
  // Rows of x in `type` (dtype_bytes(type, k) bytes apart); F32 is x itself.
  const uint8_t* rows(DType type);

 private:
  struct Copy {
    DType type;
    bool valid;
    std::vector<uint8_t> bytes;
  };
  const float* x_ = nullptr;
  int64_t m_ = 0, k_ = 0;
  std::vector<Copy> copies_;  // one per activation type seen
};

enum class QmatmulPath { kAuto, kDot, kDequantGemm };

// Rows of x from which kAuto decodes tiles for sgemm instead of dots.
int64_t qmatmul_gemm_min_rows(DType type);

// y[m, n] = x · Wᵀ (+ y when accumulate) with m = x.m(), n = w.rows,
// k = x.k() == w.cols. y: [m, n] row-major.
void qmatmul_xwt(float* y, QuantizedActivations& x, const WeightMatrix& w, bool accumulate = false,
                 QmatmulPath path = QmatmulPath::kAuto);

}  // namespace lmpack
