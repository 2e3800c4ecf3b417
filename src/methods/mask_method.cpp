// Mask, then round; see mask_method.h.
#include "methods/mask_method.h"

#include "core/error.h"
#include "methods/magnitude_prune.h"
#include "methods/wanda.h"

namespace lmpack {
namespace {

class MaskThenRound final : public Method {
 public:
  MaskThenRound(PruneMask mask, const SparsityPattern& pattern) : mask_(mask), pattern_(pattern) {
    validate_sparsity_pattern(pattern_);
  }
  std::string name() const override { return mask_ == PruneMask::kMagnitude ? "magnitude" : "wanda"; }
  bool needs_calibration() const override { return mask_ == PruneMask::kWanda; }
  CompressedLayer compress(const LinearLayer& l) override {
    SparsityMask mask;
    if (mask_ == PruneMask::kMagnitude) {
      mask = magnitude_prune_mask(l.w, l.rows, l.cols, pattern_);
    } else {
      LMPACK_CHECK(l.hessian != nullptr, "Wanda without a Hessian");
      const std::vector<float> norms = wanda_column_norms(*l.hessian);
      mask = wanda_prune_mask(l.w, l.rows, l.cols, norms.data(), pattern_);
    }
    const std::vector<float> pruned = apply_mask(l.w, mask);
    CompressedLayer out;
    out.matrix = l.grid->round(pruned.data(), l.rows, l.cols, l.importance);
    for (size_t i = 0; i < mask.pruned.size(); ++i)
      out.pruned_nonzero += mask.pruned[i] && out.matrix.dequantized[i] != 0.0f;
    out.grid = l.grid->label() + " " + name();
    return out;
  }

 private:
  PruneMask mask_;
  SparsityPattern pattern_;
};

}  // namespace

std::unique_ptr<Method> make_mask_method(PruneMask mask, const SparsityPattern& pattern) {
  return std::make_unique<MaskThenRound>(mask, pattern);
}

}  // namespace lmpack
