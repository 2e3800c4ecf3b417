// Synthetic correlated layers for the methods tests (GPTQ, GPTQ onto the GGUF
// grids, pruning, AWQ): inputs X = Z·A with standard normal Z [tokens, cols]
// and a random mixing A [cols, cols] (N(0, 1/cols)) that makes the columns
// correlate, which is what GPTQ/SparseGPT's error feedback exploits, and a few
// outlier columns (spread over the width) whose activations are x20. Weights
// are 0.05·N(0, 1) unless given. The measure is the output error
// ||W·Xᵀ - Ŵ·Xᵀ||_F computed directly from X. Draw order (fixed, so numbers
// quoted in the tests stay valid): weights, then Z, then the mixing matrix.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/matmul.h"
#include "stats/hessian.h"

namespace lmpack::testing {

// X [tokens, cols] drawn with dist from gen (Z, then the mixing matrix D,
// row-major; one dist throughout, as it caches a spare draw). mixing_is_a
// false: X = Z·Dᵀ; true: X = Z·D (the layout gptq_test was measured with).
// outliers: that many columns get activations x20.
inline std::vector<float> correlated_inputs(std::mt19937& gen, std::normal_distribution<float>& dist, int64_t tokens,
                                            int64_t cols, int outliers, bool mixing_is_a = false) {
  std::vector<float> x(tokens * cols), z(tokens * cols), d(cols * cols);
  for (float& v : z) v = dist(gen);
  for (float& v : d) v = dist(gen) / std::sqrt(static_cast<float>(cols));
  std::vector<float> at = d;  // Aᵀ, the "w" of matmul_xwt: X = Z·(Aᵀ)ᵀ
  if (mixing_is_a)
    for (int64_t i = 0; i < cols; ++i)
      for (int64_t j = 0; j < cols; ++j) at[j * cols + i] = d[i * cols + j];
  matmul_xwt(x.data(), z.data(), at.data(), tokens, cols, cols);
  for (int k = 0; k < outliers; ++k) {
    const int64_t c = (k * 37 + 11) % cols;
    for (int64_t t = 0; t < tokens; ++t) x[t * cols + c] *= 20.0f;
  }
  return x;
}

struct Layer {
  int64_t rows, cols, tokens;
  std::vector<float> w;           // [rows, cols]
  std::vector<float> x;           // [tokens, cols]
  std::vector<float> importance;  // [cols]: mean x² per column (float sums), as an imatrix holds
  std::vector<float> norms;       // [cols]: ‖X_j‖₂ (double sums), Wanda's input norms
  Hessian h;
};

// Recomputes importance, norms and h from l.x (after a test edits it).
inline void refresh_input_stats(Layer& l) {
  l.importance.assign(l.cols, 0.0f);
  for (int64_t t = 0; t < l.tokens; ++t)
    for (int64_t c = 0; c < l.cols; ++c) l.importance[c] += l.x[t * l.cols + c] * l.x[t * l.cols + c] / l.tokens;
  l.norms.assign(l.cols, 0.0f);
  for (int64_t c = 0; c < l.cols; ++c) {
    double s = 0.0;
    for (int64_t t = 0; t < l.tokens; ++t) s += static_cast<double>(l.x[t * l.cols + c]) * l.x[t * l.cols + c];
    l.norms[c] = static_cast<float>(std::sqrt(s));
  }
  l.h = make_hessian(l.cols);
  hessian_add(l.h, l.x.data(), l.tokens);
}

struct LayerDraw {
  const float* w = nullptr;  // null: random weights; else [rows, cols] to copy (nothing drawn for them)
  bool mixing_is_a = false;  // see correlated_inputs
};

inline Layer make_layer(int64_t rows, int64_t cols, int64_t tokens, int outliers, uint32_t seed,
                        const LayerDraw& draw = {}) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist;
  Layer l{rows, cols, tokens, std::vector<float>(rows * cols), {}, {}, {}, {}};
  for (int64_t i = 0; i < rows * cols; ++i) l.w[i] = draw.w != nullptr ? draw.w[i] : 0.05f * dist(gen);
  l.x = correlated_inputs(gen, dist, tokens, cols, outliers, draw.mixing_is_a);
  refresh_input_stats(l);
  return l;
}

// The 64 x 256 layer (1024 tokens, 4 outliers, seed 42) most tests share, built once.
inline const Layer& shared_layer(bool mixing_is_a = false) {
  if (mixing_is_a) {
    static const Layer a = make_layer(64, 256, 1024, 4, 42, {.mixing_is_a = true});
    return a;
  }
  static const Layer at = make_layer(64, 256, 1024, 4, 42);
  return at;
}

// Zeroes these input columns (dead channels) and recomputes the stats.
inline void kill_columns(Layer& l, const std::vector<int64_t>& dead) {
  for (int64_t c : dead)
    for (int64_t t = 0; t < l.tokens; ++t) l.x[t * l.cols + c] = 0.0f;
  refresh_input_stats(l);
}

// ||W·Xᵀ - Ŵ·Xᵀ||_F with Ŵ = wq [rows, cols].
inline double output_error(const Layer& l, const std::vector<float>& wq) {
  std::vector<float> d(l.rows * l.cols), y(l.tokens * l.rows);
  for (size_t i = 0; i < d.size(); ++i) d[i] = l.w[i] - wq[i];
  matmul_xwt(y.data(), l.x.data(), d.data(), l.tokens, l.rows, l.cols);
  double s = 0.0;
  for (float v : y) s += static_cast<double>(v) * v;
  return std::sqrt(s);
}

}  // namespace lmpack::testing
