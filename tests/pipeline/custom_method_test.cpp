// A compression method written outside the library plugs into the engine
// through methods/method.h alone: "zero the smallest 1% of each layer by
// magnitude, then round onto the layer's grid". The engine runs it over
// ts-llama-4.9M's block linears with no pipeline change, the GGUF writer
// stores its results, and the file read back holds its zeros.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "formats/decode.h"
#include "grids/format_grid.h"
#include "methods/method.h"
#include "pipeline/gguf_quantize.h"
#include "pipeline/sequential_calibration.h"
#include "pipeline_test_models.h"

namespace lmpack {
namespace {

class ZeroSmallest final : public Method {  // the whole method: 17 lines
 public:
  std::string name() const override { return "zero-smallest-1%"; }
  bool needs_calibration() const override { return false; }
  CompressedLayer compress(const LinearLayer& l) override {
    std::vector<float> w(l.w, l.w + l.rows * l.cols), mag(w.size());
    std::transform(w.begin(), w.end(), mag.begin(), [](float v) { return std::fabs(v); });
    const size_t k = mag.size() / 100;
    std::nth_element(mag.begin(), mag.begin() + k, mag.end());
    for (float& v : w)
      if (std::fabs(v) < mag[k]) v = 0.0f;
    CompressedLayer out;
    out.matrix = l.grid->round(w.data(), l.rows, l.cols, l.importance);
    out.grid = l.grid->label() + " zero-smallest";
    return out;
  }
};

int64_t zeros_in(const TensorInfo& t) {
  std::vector<float> v(static_cast<size_t>(t.n_elements()));
  decode_to_f32(v.data(), t.data, t.dtype, t.n_elements());
  return std::count(v.begin(), v.end(), 0.0f);
}

TEST(CustomMethod, PlugsIntoTheEngineAndTheWriter) {
  LMPACK_REQUIRE_SHARED();
  const Checkpoint ckpt = testing::load_with_tok512("models/ts-llama-4.9M/ts-llama-4.9M.bin");
  CalibrationPlan plan;
  plan.method = std::make_shared<ZeroSmallest>();
  plan.show_progress = false;
  auto f16 = std::make_shared<const FormatGrid>(DType::F16);
  for (int64_t l = 0; l < ckpt.config.n_layers; ++l)
    for (const std::string& n : block_linear_names(l)) plan.grids[n] = f16;
  SequentialCalibration engine(ckpt, {}, plan);
  QuantizeOptions q;
  q.type_name = "f16";
  q.pure = true;
  q.show_progress = false;
  const std::string out = testing::temp_dir() + "/custom-method.gguf";
  quantize_to_gguf(ckpt, out, q, &engine);

  ASSERT_EQ(engine.layer_errors().size(), static_cast<size_t>(7 * ckpt.config.n_layers));
  const Checkpoint back = load_checkpoint(out);
  for (const LayerError& e : engine.layer_errors()) {
    EXPECT_EQ(e.grid, "f16 zero-smallest") << e.name;
    const int64_t n = e.rows * e.cols, before = zeros_in(ckpt.tensor(e.name));
    EXPECT_GE(e.zeros, n / 100) << e.name;  // the method's zeros reached the engine's report ...
    EXPECT_LE(e.zeros, n / 100 + before + 8) << e.name;  // ... and only about 1% (ties, f16 underflow aside)
    EXPECT_EQ(zeros_in(back.tensor(e.name)), e.zeros) << e.name;  // ... and the file
  }
}

}  // namespace
}  // namespace lmpack
