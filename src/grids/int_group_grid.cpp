// Integer group grids; see int_group_grid.h.
#include "grids/int_group_grid.h"

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"

namespace lmpack {
namespace {

const float* at(const float* importance, int64_t c) { return importance != nullptr ? importance + c : nullptr; }

class IntGroupRowSweep;

class IntGroupSweep final : public GridSweep {
 public:
  IntGroupSweep(const IntGridSpec& spec, int64_t rows, int64_t cols, int64_t gs, const float* importance)
      : spec_(spec), importance_(importance), out_(make_int_group_matrix(rows, cols, gs)),
        params_(static_cast<size_t>(rows * out_.n_groups)) {}

  int64_t unit() const override { return out_.group_size; }
  int64_t alignment() const override { return 1; }  // a group may straddle batches (pending updates are applied)

  void fit_all(const float* w) override {
    const int64_t rows = out_.rows, cols = out_.cols, gs = out_.group_size, ng = out_.n_groups;
    parallel_for(rows, [&](int64_t r) {
      for (int64_t g = 0; g < ng; ++g) {
        const int64_t c0 = g * gs, len = std::min(gs, cols - c0);
        params_[r * ng + g] = find_params(w + r * cols + c0, len, spec_, at(importance_, c0));
      }
    });
  }

  std::unique_ptr<GridRowSweep> row(int64_t r) override;

  QuantizedMatrix finish() override {
    for (size_t k = 0; k < params_.size(); ++k) {
      out_.scales[k] = params_[k].scale;
      out_.zeros[k] = params_[k].zero;
    }
    return std::move(out_);
  }

 private:
  friend class IntGroupRowSweep;
  IntGridSpec spec_;
  const float* importance_;
  QuantizedMatrix out_;
  std::vector<IntGroupParams> params_;  // [rows, n_groups]
};

class IntGroupRowSweep final : public GridRowSweep {
 public:
  IntGroupRowSweep(IntGroupSweep& s, int64_t r)
      : s_(s), params_(s.params_.data() + r * s.out_.n_groups), codes_(s.out_.codes.data() + r * s.out_.cols),
        values_(s.out_.dequantized.data() + r * s.out_.cols) {}

  void fit(int64_t c0, const float* values, int64_t len) override {
    params_[c0 / s_.out_.group_size] = find_params(values, len, s_.spec_, at(s_.importance_, c0));
  }
  float round(int64_t c, float x) override {
    const IntGroupParams& p = params_[c / s_.out_.group_size];
    const int32_t q = quantize_value(x, p);
    const float v = dequantize(q, p);
    codes_[c] = static_cast<uint8_t>(q);
    values_[c] = v;
    return v;
  }
  void rounded(int64_t) override {}

 private:
  IntGroupSweep& s_;
  IntGroupParams* params_;  // [n_groups] of the row
  uint8_t* codes_;          // [cols]
  float* values_;           // [cols]
};

std::unique_ptr<GridRowSweep> IntGroupSweep::row(int64_t r) { return std::make_unique<IntGroupRowSweep>(*this, r); }

}  // namespace

int64_t int_group_width(int64_t group_size, int64_t cols, const char* where) {
  if (group_size == -1) return cols;
  if (group_size <= 0) throw Error(where, cat("group_size must be > 0 or -1 (per-channel), got ", group_size));
  return std::min(group_size, cols);
}

std::string int_group_grid_label(const IntGridSpec& g, int64_t group_size) {
  return cat("int", g.bits, group_size < 0 ? std::string(" per-channel") : cat(" g", group_size),
             g.symmetric ? " sym" : " asym");
}

IntGroupGrid::IntGroupGrid(const IntGridSpec& spec, int64_t group_size) : spec_(spec), group_size_(group_size) {
  validate_int_grid(spec_);
}

std::string IntGroupGrid::label() const { return int_group_grid_label(spec_, group_size_); }

QuantizedMatrix IntGroupGrid::round(const float* w, int64_t rows, int64_t cols, const float* importance) const {
  constexpr const char* where = "rtn";
  if (rows <= 0 || cols <= 0) throw Error(where, cat("weight shape must be positive, got [", rows, ", ", cols, "]"));
  const int64_t gs = int_group_width(group_size_, cols, where);
  QuantizedMatrix out = make_int_group_matrix(rows, cols, gs);
  parallel_for(rows, [&](int64_t r) {
    for (int64_t g = 0; g < out.n_groups; ++g) {
      const int64_t c0 = g * gs, len = std::min(gs, cols - c0);
      const IntGroupParams p = find_params(w + r * cols + c0, len, spec_, at(importance, c0));
      out.scales[r * out.n_groups + g] = p.scale;
      out.zeros[r * out.n_groups + g] = p.zero;
      for (int64_t c = c0; c < c0 + len; ++c) {
        const int32_t q = quantize_value(w[r * cols + c], p);
        out.codes[r * cols + c] = static_cast<uint8_t>(q);
        out.dequantized[r * cols + c] = dequantize(q, p);
      }
    }
  });
  return out;
}

MatrixRoundTrip IntGroupGrid::round_trip(const float* importance) const {
  constexpr const char* where = "round trip";
  if (group_size_ <= 0 && group_size_ != -1)
    throw Error(where, cat("group_size must be > 0 or -1 (per-channel), got ", group_size_));
  return [grid = spec_, group_size = group_size_, importance](float* out, const float* in, int64_t rows,
                                                               int64_t cols) {
    if (out == nullptr || in == nullptr) throw Error(where, "null matrix");
    if (rows < 0 || cols <= 0) throw Error(where, cat("matrix shape must be positive, got [", rows, ", ", cols, "]"));
    const int64_t gs = group_size == -1 ? cols : std::min(group_size, cols);
    parallel_for(rows, [&](int64_t r) {
      const float* w = in + r * cols;
      float* o = out + r * cols;
      for (int64_t g0 = 0; g0 < cols; g0 += gs) {
        const int64_t n = std::min(gs, cols - g0);
        const IntGroupParams p = find_params(w + g0, n, grid, at(importance, g0));
        for (int64_t c = g0; c < g0 + n; ++c) o[c] = round_to_grid(w[c], p);
      }
    });
  };
}

bool IntGroupGrid::sweepable(int64_t cols) const { return cols > 0 && (group_size_ > 0 || group_size_ == -1); }

std::unique_ptr<GridSweep> IntGroupGrid::sweep(int64_t rows, int64_t cols, const float* importance,
                                               const char* where) const {
  const int64_t gs = int_group_width(group_size_, cols, where);
  return std::make_unique<IntGroupSweep>(spec_, rows, cols, gs, importance);
}

}  // namespace lmpack
