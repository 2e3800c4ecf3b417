// GgufStudentGrid on ts-llama-4.9M: the file it writes decodes to exactly the
// weights its projection gave training (every tensor, bit for bit, with an
// imatrix and a mix of types); the types are the plan's; the norms are not
// touched; a file of the type, re-encoded, keeps its grid; a bad imatrix is
// named.
#include "pipeline/gguf_student_grid.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <set>

#include "core/error.h"
#include "io/imatrix.h"
#include "model/load_model.h"
#include "test_paths.h"
#include "train/parameters.h"

namespace lmpack {
namespace {

Checkpoint teacher() {
  return load_model(testing::shared_path("models/ts-llama-4.9M/ts-llama-4.9M.bin"),
                    testing::shared_path("models/stories260K/tok512.bin"));
}

// Positive importance for every matrix, of each tensor's width.
std::shared_ptr<const ImportanceMatrix> made_up_importance(const ParameterLayout& layout) {
  auto m = std::make_shared<ImportanceMatrix>();
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0.05f, 4.0f);
  for (const ParameterTensor& t : layout.tensors()) {
    if (t.shape.size() != 2) continue;
    std::vector<float>& v = m->values[t.name];
    v.resize(static_cast<size_t>(t.shape[1]));
    for (float& x : v) x = u(rng);
  }
  return m;
}

TEST(GgufStudentGrid, TheFileHoldsExactlyWhatTrainingSaw) {
  LMPACK_REQUIRE_SHARED();
  const Checkpoint base = teacher();
  TrainableModel model = trainable_from_checkpoint(base);
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.0f, 1e-3f);
  for (float& v : model.values) v += noise(rng);  // off any grid

  QuantizeOptions q;
  q.type_name = "Q3_K_M";
  q.imatrix = made_up_importance(model.layout);
  q.imatrix_path = "made-up importance";
  GgufStudentGrid grid(model, base, q);
  EXPECT_TRUE(grid.without_importance().empty());
  std::vector<float> projected(model.values.size());
  grid.project(model.values.data(), projected.data());

  const std::string out = testing::temp_dir() + "/grid-student.gguf";
  grid.write(model, base, out);
  const Checkpoint written = load_checkpoint(out);
  const TrainableModel decoded = trainable_from_checkpoint(written);
  ASSERT_EQ(decoded.values.size(), projected.size());

  const std::map<std::string, DType> types = grid.plan().types();
  std::set<DType> seen;
  for (const ParameterTensor& t : model.layout.tensors()) {
    SCOPED_TRACE(t.name);
    const DType type = types.at(t.name);
    EXPECT_EQ(written.tensors.at(t.name).dtype, type);
    seen.insert(type);
    EXPECT_EQ(std::memcmp(decoded.values.data() + t.offset, projected.data() + t.offset, t.size * sizeof(float)), 0)
        << "the file is not what training saw";
    const bool same_as_latent =
        std::memcmp(model.values.data() + t.offset, projected.data() + t.offset, t.size * sizeof(float)) == 0;
    EXPECT_EQ(same_as_latent, type == DType::F32) << "held: " << dtype_name(type);
  }
  EXPECT_GE(seen.size(), 3u) << "Q3_K_M mixes q3_K, q4_K/q5_K and q6_K with f32 norms";
}

// Training starts on the grid of the file it starts from: the projection of
// a file's own weights gives them back (the type's encoder alone would not:
// re-running its scale search on them moves 4% of the weights here).
TEST(GgufStudentGrid, AFileOfTheTypeKeepsItsGrid) {
  LMPACK_REQUIRE_SHARED();
  const Checkpoint base = teacher();
  QuantizeOptions q;
  q.type_name = "Q2_K";
  q.show_progress = false;
  const std::string file = testing::temp_dir() + "/grid-start.gguf";
  quantize_to_gguf(base, file, q);
  const Checkpoint start = load_model(file, "");
  const TrainableModel model = trainable_from_checkpoint(start);
  GgufStudentGrid grid(model, start, q);
  std::vector<float> projected(model.values.size());
  grid.project(model.values.data(), projected.data());
  size_t differ = 0;
  for (size_t i = 0; i < projected.size(); ++i) differ += projected[i] != model.values[i];
  EXPECT_EQ(differ, 0u) << "of " << projected.size() << " weights";
  EXPECT_EQ(grid.start_grid_share(), 1.0);
}

TEST(GgufStudentGrid, AnImatrixOfAnotherWidthIsNamed) {
  LMPACK_REQUIRE_SHARED();
  const Checkpoint base = teacher();
  const TrainableModel model = trainable_from_checkpoint(base);
  auto m = std::make_shared<ImportanceMatrix>();
  m->values["blk.0.ffn_down.weight"] = std::vector<float>(100, 1.0f);
  QuantizeOptions q;
  q.type_name = "Q2_K";
  q.imatrix = m;
  q.imatrix_path = "other.imatrix";
  try {
    GgufStudentGrid grid(model, base, q);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("other.imatrix"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("100 importance values"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lmpack
