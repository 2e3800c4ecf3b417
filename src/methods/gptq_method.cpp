// GPTQ as a method; see gptq_method.h.
#include "methods/gptq_method.h"

#include "methods/gptq.h"

namespace lmpack {
namespace {

class Gptq final : public Method {
 public:
  explicit Gptq(const GptqMethodOptions& o) : o_(o) {}
  std::string name() const override { return "gptq"; }
  bool needs_calibration() const override { return true; }
  CompressedLayer compress(const LinearLayer& l) override {
    CompressedLayer out;
    if (l.hessian != nullptr && l.grid->sweepable(l.cols)) {
      out.matrix = gptq_quantize_onto(*l.grid, l.w, l.rows, l.cols, *l.hessian, l.importance,
                                      {o_.damp, o_.block_size, o_.act_order, /*keep_zeros=*/true});
      out.grid = l.grid->label();
    } else {
      out.matrix = l.grid->round(l.w, l.rows, l.cols, l.importance);
      out.grid = l.grid->label() + (l.hessian != nullptr ? " (rtn: no row grid)" : "");
    }
    return out;
  }

 private:
  GptqMethodOptions o_;
};

}  // namespace

std::unique_ptr<Method> make_gptq_method(const GptqMethodOptions& options) { return std::make_unique<Gptq>(options); }

}  // namespace lmpack
