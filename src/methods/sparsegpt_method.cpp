// SparseGPT as a method; see sparsegpt_method.h.
#include "methods/sparsegpt_method.h"

#include "core/error.h"
#include "methods/sparsegpt.h"

namespace lmpack {
namespace {

class SparseGpt final : public Method {
 public:
  explicit SparseGpt(const SparseGptMethodOptions& o) : o_(o) { validate_sparsity_pattern(o_.pattern); }
  std::string name() const override { return "sparsegpt"; }
  bool needs_calibration() const override { return true; }
  CompressedLayer compress(const LinearLayer& l) override {
    LMPACK_CHECK(l.hessian != nullptr, "SparseGPT without a Hessian");
    SparseGptOptions so;
    so.damp = o_.damp;
    so.block_size = o_.block_size;
    so.importance = l.importance;
    const bool joint = l.grid->sweepable(l.cols);
    SparseGptResult res = sparsegpt_prune_onto(joint ? l.grid : nullptr, l.w, l.rows, l.cols, *l.hessian,
                                               o_.pattern, so);
    CompressedLayer out;
    out.pruned_nonzero = res.pruned_nonzero;
    out.matrix = joint ? std::move(*res.quantized) : l.grid->round(res.weights.data(), l.rows, l.cols, l.importance);
    out.grid = l.grid->label() + " sparsegpt" + (joint ? " (joint)" : "");
    return out;
  }

 private:
  SparseGptMethodOptions o_;
};

}  // namespace

std::unique_ptr<Method> make_sparsegpt_method(const SparseGptMethodOptions& options) {
  return std::make_unique<SparseGpt>(options);
}

}  // namespace lmpack
