// Harness over recipe files (pipeline/recipe.h): parse_recipe, and for every
// recipe it accepts, the properties the job relies on: at least one step,
// only the last one with a target, and each step describable (lmpack.recipe).
#include <string>

#include "fuzz_check.h"
#include "fuzz_harness.h"
#include "pipeline/recipe.h"

namespace lmpack::fuzz {

void fuzz_recipe(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  run_checked([&] {
    const Recipe r = parse_recipe(text, kWhere);
    LMPACK_FUZZ_CHECK(!r.steps.empty(), "a recipe without steps was accepted: ", text);
    for (size_t i = 0; i + 1 < r.steps.size(); ++i) {
      const CompressStep& s = r.steps[i];
      LMPACK_FUZZ_CHECK(!s.int_export && s.gguf.type_name.empty(), "step ", i, " before the last has a target");
    }
    for (const CompressStep& s : r.steps) (void)describe_step(s, r.calibration);
  });
}

}  // namespace lmpack::fuzz
