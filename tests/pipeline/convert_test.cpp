// The convert job (pipeline/convert.h) as a library user runs it: stories260K
// to a Q8_0 GGUF and to an F16 Hugging Face folder, each read back, and the
// errors that name the request's `type`.
#include "pipeline/convert.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "model/checkpoint.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

std::string refused_field(const ConvertRequest& r) {
  try {
    convert_model(r);
  } catch (const Error& e) {
    return e.where();
  }
  return "";
}

TEST(ConvertJob, GgufQ8AndHfF16ReadBack) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = testing::temp_dir() + "/convert-job";
  fs::create_directories(dir);
  ConvertRequest r;
  r.model = testing::shared_path("models/stories260K/stories260K.gguf");
  r.output = dir + "/q8.gguf";
  r.type = "Q8_0";
  const ConvertReport gguf = convert_model(r);
  EXPECT_TRUE(gguf.gguf);
  EXPECT_EQ(gguf.type, "q8_0");
  EXPECT_EQ(gguf.file_bytes, fs::file_size(r.output));
  const Checkpoint q8 = load_checkpoint(r.output);
  EXPECT_EQ(gguf.tensors, static_cast<int64_t>(q8.tensors.size()));
  EXPECT_EQ(gguf.parameters, q8.parameter_count());
  EXPECT_EQ(q8.tensor("blk.0.attn_q.weight").dtype, DType::Q8_0);

  r.output = dir + "/hf";
  r.type = "f16";
  const ConvertReport hf = convert_model(r);
  EXPECT_FALSE(hf.gguf);
  EXPECT_EQ(hf.type, "f16");
  EXPECT_TRUE(hf.fallbacks.empty());
  const Checkpoint f16 = load_checkpoint(r.output);
  EXPECT_EQ(hf.parameters, f16.parameter_count());
  EXPECT_EQ(f16.tensor("blk.0.attn_q.weight").dtype, DType::F16);
}

TEST(ConvertJob, TypesTheOutputCannotHoldNameTheTypeField) {
  const std::string dir = testing::temp_dir() + "/convert-job-errors";
  fs::create_directories(dir);
  ConvertRequest r;
  r.model = dir + "/no-such-model.gguf";
  r.output = dir + "/out.gguf";
  r.type = "q4_0";
  EXPECT_EQ(refused_field(r), "type");
  r.output = dir + "/hf";
  r.type = "q9";
  EXPECT_EQ(refused_field(r), "type");
  r.type = "f32";
  EXPECT_EQ(refused_field(r), r.model);  // then the model itself
  r.output.clear();
  EXPECT_EQ(refused_field(r), "output");
  EXPECT_FALSE(fs::exists(dir + "/out.gguf"));
  EXPECT_FALSE(fs::exists(dir + "/hf"));
}

}  // namespace
}  // namespace lmpack
