// AWQ's scale search, folding and clipping around another method; see
// awq_method.h.
#include "methods/awq_method.h"

#include <cmath>
#include <map>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "grids/int_group_grid.h"
#include "methods/awq.h"

namespace lmpack {
namespace {

// Mean |x| of each column of x [tokens, cols].
std::vector<float> column_mean_abs(const float* x, int64_t tokens, int64_t cols) {
  std::vector<float> m(static_cast<size_t>(cols), 0.0f);
  parallel_for(cols, [&](int64_t c) {
    double sum = 0.0;
    for (int64_t t = 0; t < tokens; ++t) sum += std::fabs(x[t * cols + c]);
    m[c] = static_cast<float>(sum / static_cast<double>(tokens));
  });
  return m;
}

void scale_columns(std::vector<float>& w, int64_t cols, const std::vector<float>& s) {
  const int64_t rows = static_cast<int64_t>(w.size()) / cols;
  parallel_for(rows, [&](int64_t r) {
    for (int64_t c = 0; c < cols; ++c) w[r * cols + c] *= s[c];
  });
}

void divide_rows(std::vector<float>& w, int64_t cols, const std::vector<float>& s) {
  const int64_t rows = static_cast<int64_t>(w.size()) / cols;
  parallel_for(rows, [&](int64_t r) {
    for (int64_t c = 0; c < cols; ++c) w[r * cols + c] /= s[r];
  });
}

void divide_elements(std::vector<float>& v, const std::vector<float>& s) {
  for (size_t i = 0; i < v.size(); ++i) v[i] /= s[i];
}

class Awq final : public Method {
 public:
  Awq(std::unique_ptr<Method> inner, const AwqMethodOptions& o) : inner_(std::move(inner)), o_(o) {
    LMPACK_CHECK(inner_ != nullptr, "AWQ needs a method to round with");
    if (o_.n_grid < 1) throw Error("awq", cat("the α grid needs >= 1 point, got ", o_.n_grid));
  }
  std::string name() const override {
    if (!o_.search_scales) return inner_->name();
    return inner_->name() == "rtn" ? std::string("awq") : "awq+" + inner_->name();
  }
  bool needs_calibration() const override { return true; }

  void transform_block(const BlockWalk& walk) override {
    inner_->transform_block(walk);
    if (!o_.search_scales) return;
    struct Fold {
      LinearStage stage;
      std::vector<float> scales;
    };
    std::vector<Fold> folds;
    walk([&](const LinearStage& st) {
      if (!st.has_producer()) return;
      Hessian h = make_hessian(st.cols);
      hessian_add(h, st.input, st.tokens);
      const std::vector<float> mean_abs = column_mean_abs(st.input, st.tokens, st.cols);
      std::vector<AwqLinear> linears;
      for (const StageLinear& l : st.linears) linears.push_back({l.w->data(), l.rows, l.grid->round_trip(nullptr)});
      AwqOptions ao;
      ao.n_grid = o_.n_grid;
      AwqSearchResult res = awq_search_scales(linears, st.cols, mean_abs.data(), h, ao);
      for (const StageLinear& l : st.linears) {
        alphas_[l.name] = res.alpha;
        if (l.importance != nullptr)
          for (int64_t k = 0; k < st.cols; ++k) (*l.importance)[k] /= res.scales[k] * res.scales[k];
      }
      Fold f{st, std::move(res.scales)};
      f.stage.input = nullptr;
      folds.push_back(std::move(f));
    });
    // Fold, in stage order: the input divided by s, its consumers' columns multiplied.
    for (Fold& f : folds) {
      const LinearStage& st = f.stage;
      if (st.producer_norm != nullptr) divide_elements(*st.producer_norm, f.scales);
      if (st.producer_rows != nullptr) {
        divide_rows(*st.producer_rows, st.producer_cols, f.scales);
        if (st.producer_bias != nullptr && !st.producer_bias->empty()) divide_elements(*st.producer_bias, f.scales);
      }
      for (const StageLinear& l : st.linears) scale_columns(*l.w, st.cols, f.scales);
    }
  }

  CompressedLayer compress(const LinearLayer& l) override {
    LinearLayer layer = l;
    std::vector<float> clipped;
    // As AutoAWQ: q and k stay unclipped; their error shows in the attention
    // scores, which the output error that the search minimises does not see.
    if (o_.clip && l.hessian != nullptr && !l.feeds_attention_scores) {
      const auto* grid = dynamic_cast<const IntGroupGrid*>(l.grid);
      if (grid == nullptr) throw Error("awq", cat(l.name, ": the clipping search is for integer grids, not ", l.grid->label()));
      clipped.assign(l.w, l.w + l.rows * l.cols);
      awq_clip(clipped.data(), l.rows, l.cols, *l.hessian, grid->spec(), grid->group_size(), {});
      layer.w = clipped.data();
    }
    CompressedLayer out = inner_->compress(layer);
    if (auto it = alphas_.find(l.name); it != alphas_.end()) out.awq_alpha = it->second;
    return out;
  }

 private:
  std::unique_ptr<Method> inner_;
  AwqMethodOptions o_;
  std::map<std::string, double> alphas_;  // by layer name, from the scale search
};

}  // namespace

std::unique_ptr<Method> make_awq_method(std::unique_ptr<Method> inner, const AwqMethodOptions& options) {
  return std::make_unique<Awq>(std::move(inner), options);
}

}  // namespace lmpack
