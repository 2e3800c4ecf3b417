// make_calibration_plan; see calibration_recipe.h.
#include "pipeline/calibration_recipe.h"

#include "core/error.h"
#include "grids/format_grid.h"
#include "grids/int_group_grid.h"
#include "methods/awq_method.h"
#include "methods/gptq_method.h"
#include "methods/mask_method.h"
#include "methods/rtn_method.h"
#include "methods/sparsegpt_method.h"
#include "pipeline/sequential_calibration.h"

namespace lmpack {
namespace {

std::unique_ptr<Method> method_of(const CalibrationRecipe& r) {
  if (r.prune) {
    if (r.prune->method == PruneMethod::kSparseGpt) return make_sparsegpt_method({r.prune->pattern, r.damp, r.block_size});
    return make_mask_method(r.prune->method == PruneMethod::kMagnitude ? PruneMask::kMagnitude : PruneMask::kWanda,
                            r.prune->pattern);
  }
  std::unique_ptr<Method> m = r.rounding == RoundingMethod::kGptq
                                  ? make_gptq_method({r.damp, r.block_size, r.int_grid && r.act_order})
                                  : make_rtn_method();
  if (r.awq || r.awq_clip) m = make_awq_method(std::move(m), {r.awq, r.awq_clip, r.awq_grid});
  return m;
}

}  // namespace

CalibrationPlan make_calibration_plan(const Checkpoint& ckpt, const CalibrationRecipe& r) {
  CalibrationPlan plan;
  plan.method = method_of(r);
  plan.importance = r.importance;
  plan.show_progress = r.show_progress;
  if (r.min_expert_tokens < 0)
    throw Error("min_expert_tokens", cat("must be >= 0, got ", r.min_expert_tokens));
  plan.min_expert_tokens = r.min_expert_tokens;
  if (!r.int_grid && r.awq_clip)
    throw Error("awq_clip", "the clipping search is for integer grids (GPTQ/AWQ exports)");
  std::shared_ptr<const Grid> int_grid;
  if (r.int_grid) int_grid = std::make_shared<IntGroupGrid>(*r.int_grid, r.group_size);
  std::map<DType, std::shared_ptr<const Grid>> formats;
  for (int64_t l = 0; l < ckpt.config.n_layers; ++l)
    for (const std::string& n : block_linear_names(l, ckpt.config)) {
      if (int_grid) {
        plan.grids[n] = int_grid;
        continue;
      }
      auto it = r.gguf_types.find(n);
      if (it == r.gguf_types.end()) throw Error(n, "no target type for this linear layer");
      std::shared_ptr<const Grid>& g = formats[it->second];
      if (!g) g = std::make_shared<FormatGrid>(it->second);
      plan.grids[n] = g;
    }
  return plan;
}

}  // namespace lmpack
