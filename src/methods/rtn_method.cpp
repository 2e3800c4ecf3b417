// Round to nearest; see rtn_method.h.
#include "methods/rtn_method.h"

namespace lmpack {
namespace {

class RoundToNearest final : public Method {
 public:
  std::string name() const override { return "rtn"; }
  bool needs_calibration() const override { return false; }
  CompressedLayer compress(const LinearLayer& l) override {
    CompressedLayer out;
    out.matrix = l.grid->round(l.w, l.rows, l.cols, l.importance);
    out.grid = l.grid->label();
    return out;
  }
};

}  // namespace

std::unique_ptr<Method> make_rtn_method() { return std::make_unique<RoundToNearest>(); }

}  // namespace lmpack
