// qmatmul_xwt: the linear layer over weights in their stored format.
//
// Path choice, measured with bench/qmatmul_bench.cpp on 4096x4096 weights,
// one thread, CPU ms per product (AVX-512 machine, heavily shared, so +-20%):
//            m=32        m=64        m=96        m=128       m=256
//   q8_0   25 / 56     46 / 66     75 / 111    93 / 86     199 / 133
//   q4_0   30 / 59     61 / 71                 122 / 91
//   q4_K   25 / 51     51 / 62    109 / 81    100 / 82     241 / 140
//   q6_K                           68 / 86                 188 / 142
//   f16    30 / 87     45 / 94     87 / 103    91 / 116    176 / 157
// (dot / decode+sgemm). One dot per (activation row, weight row) pair wins
// for generation and short prompts: it reads the packed weights once and
// writes no fp32 copies. Decoding costs a fixed ~2.5 ns per weight, which
// only a prompt of >= ~100 rows pays back through oneDNN's register-blocked
// GEMM; F16 dots (fp32 activations) stay ahead up to ~200 rows.
#include "formats/qmatmul.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/parallel.h"
#include "formats/format.h"
#include "formats/format_sizes.h"
#include "kernels/matmul.h"

namespace lmpack {
namespace {

// Work (multiply-adds) below which a product runs on the calling thread: a
// parallel region costs microseconds, far more on a loaded machine.
constexpr double kSerialWork = double(1 << 18);
// Bytes of packed weight rows per dot tile: a few L1s' worth, so that the
// tile stays in L2 while every activation row passes over it.
constexpr size_t kDotTileBytes = 64 * 1024;
// Decoded weights per sgemm tile: 4 MiB of fp32 (256 rows of 4096, 95 of
// 11008), at least 64 rows. Every sgemm call packs all m activation rows
// again, so the tile must be large enough to pay for that: on the 7B-shaped
// files of bench/llamacpp_bench.cpp (m = 512, 2 threads) 64-row tiles made
// `lmpack eval` of BF16/Q8_0 17.6-18.8 s, 256-1024-row tiles 12.8-14.5 s.
constexpr size_t kGemmTileBytes = size_t{4} << 20;
constexpr int64_t kGemmTileMinRows = 64;
// Activation rows from which decode+sgemm beats dots (the table above).
constexpr int64_t kGemmMinRows = 112;
constexpr int64_t kGemmMinRowsFloat = 192;  // F16, BF16

bool is_parallel_worth(int64_t m, int64_t n, int64_t k) {
  return static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) >= kSerialWork;
}

// fn(t) for t in [0, n): across the team (dynamic, tiles may differ in cost
// when the machine is shared) or on this thread when `parallel` is false.
template <typename Fn>
void for_tiles(int64_t n, bool parallel, Fn&& fn) {
  if (parallel && n > 1) {
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t t = 0; t < n; ++t) fn(t);
  } else {
    for (int64_t t = 0; t < n; ++t) fn(t);
  }
}

void qmatmul_dot(float* y, QuantizedActivations& x, const WeightMatrix& w, const FormatOps& ops, bool accumulate) {
  const int64_t m = x.m(), n = w.rows, k = w.cols;
  const uint8_t* a = x.rows(ops.dot_type);               // [m] rows of a_stride bytes
  const size_t a_stride = dtype_bytes(ops.dot_type, k);
  const size_t w_stride = w.row_bytes();
  const DotFn dot = ops.dot;
  const bool parallel = is_parallel_worth(m, n, k);
  // Tile rows: kDotTileBytes of weights, but at least 4 tiles per thread so
  // that dynamic scheduling can balance.
  const int64_t threads = parallel ? num_threads() : 1;
  int64_t tile = std::max<int64_t>(1, static_cast<int64_t>(kDotTileBytes / std::max<size_t>(w_stride, 1)));
  tile = std::min(tile, std::max<int64_t>(1, n / (4 * threads)));
  const int64_t n_tiles = (n + tile - 1) / tile;
  const uint8_t* wdata = static_cast<const uint8_t*>(w.data);
  for_tiles(n_tiles, parallel, [&](int64_t t) {
    const int64_t j0 = t * tile, j1 = std::min(n, j0 + tile);
    for (int64_t i = 0; i < m; ++i) {
      const uint8_t* ai = a + static_cast<size_t>(i) * a_stride;  // activation row i
      float* yi = y + i * n;                                     // [n]
      for (int64_t j = j0; j < j1; ++j) {
        const float v = dot(k, wdata + static_cast<size_t>(j) * w_stride, ai);
        yi[j] = accumulate ? yi[j] + v : v;
      }
    }
  });
}

void qmatmul_dequant_gemm(float* y, const QuantizedActivations& x, const WeightMatrix& w, const FormatOps& ops,
                          bool accumulate) {
  const int64_t m = x.m(), n = w.rows, k = w.cols;
  const bool parallel = is_parallel_worth(m, n, k);
  // The byte budget's rows, but at least two tiles per thread (a small
  // matrix must not run on one thread), and never fewer than
  // kGemmTileMinRows rows unless the matrix has fewer.
  const int64_t threads = parallel ? num_threads() : 1;
  int64_t tile_rows = static_cast<int64_t>(kGemmTileBytes / (sizeof(float) * std::max<int64_t>(k, 1)));
  tile_rows = std::min(tile_rows, (n + 2 * threads - 1) / (2 * threads));
  tile_rows = std::max(tile_rows, std::min(kGemmTileMinRows, n));
  const int64_t n_tiles = (n + tile_rows - 1) / tile_rows;
  const float beta = accumulate ? 1.0f : 0.0f;
  for_tiles(n_tiles, parallel, [&](int64_t t) {
    const int64_t j0 = t * tile_rows, rows = std::min(tile_rows, n - j0);
    // Each thread's decoded rows, kept between calls (about 4 MiB a thread).
    thread_local std::vector<float> scratch;
    if (scratch.size() < static_cast<size_t>(tile_rows * k)) scratch.resize(static_cast<size_t>(tile_rows * k));
    float* tile = scratch.data();  // [rows, k]
    for (int64_t r = 0; r < rows; ++r) ops.dequantize_row(tile + r * k, w.row(j0 + r), k);
    // Inside the team this sgemm runs on the calling thread (no nested teams).
    sgemm(false, true, m, rows, k, 1.0f, x.x(), k, tile, k, beta, y + j0, n);
  });
}

}  // namespace

bool qmatmul_supported(DType type) {
  if (type == DType::F32) return true;
  const FormatOps* ops = find_format_ops(type);
  return ops != nullptr && ops->dot != nullptr && ops->dequantize_row != nullptr;
}

void QuantizedActivations::set(const float* x, int64_t m, int64_t k) {
  x_ = x;
  m_ = m;
  k_ = k;
  for (Copy& c : copies_) c.valid = false;
}

const uint8_t* QuantizedActivations::rows(DType type) {
  if (type == DType::F32) return reinterpret_cast<const uint8_t*>(x_);
  auto it = std::find_if(copies_.begin(), copies_.end(), [&](const Copy& c) { return c.type == type; });
  if (it == copies_.end()) {
    copies_.push_back(Copy{type, false, {}});
    it = copies_.end() - 1;
  }
  if (!it->valid) {
    const FormatOps& ops = format_ops(type);
    LMPACK_CHECK(ops.quantize_row != nullptr, cat("activation type ", dtype_name(type), " has no encoder"));
    LMPACK_CHECK(dtype_row_fits(type, k_), cat("rows of ", k_, " do not fit ", dtype_name(type), " blocks"));
    const size_t stride = dtype_bytes(type, k_);
    if (it->bytes.size() < stride * m_) it->bytes.resize(stride * m_);
    uint8_t* out = it->bytes.data();
    const float* x = x_;
    const int64_t k = k_;
    auto one = [&](int64_t i) { ops.quantize_row(out + i * stride, x + i * k, k, nullptr); };
    if (m_ > 1 && m_ * k_ >= 65536) {
      parallel_for(m_, one);
    } else {
      for (int64_t i = 0; i < m_; ++i) one(i);
    }
    it->valid = true;
  }
  return it->bytes.data();
}

int64_t qmatmul_gemm_min_rows(DType type) {
  return type == DType::F16 || type == DType::BF16 ? kGemmMinRowsFloat : kGemmMinRows;
}

void qmatmul_xwt(float* y, QuantizedActivations& x, const WeightMatrix& w, bool accumulate, QmatmulPath path) {
  LMPACK_CHECK(x.k() == w.cols, cat("activations of width ", x.k(), " against a weight of ", w.cols, " columns"));
  const int64_t m = x.m(), n = w.rows, k = w.cols;
  if (m == 0 || n == 0) return;
  if (w.type == DType::F32) {
    matmul_xwt(y, x.x(), static_cast<const float*>(w.data), m, n, k, accumulate);
    return;
  }
  const FormatOps& ops = format_ops(w.type);
  LMPACK_CHECK(ops.dot != nullptr, cat(dtype_name(w.type), " has no dot product"));
  if (path == QmatmulPath::kAuto)
    path = m >= qmatmul_gemm_min_rows(w.type) ? QmatmulPath::kDequantGemm : QmatmulPath::kDot;
  if (path == QmatmulPath::kDot) {
    qmatmul_dot(y, x, w, ops, accumulate);
  } else {
    qmatmul_dequant_gemm(y, x, w, ops, accumulate);
  }
}

}  // namespace lmpack
