// The generate job (eval/generate_job.h) as a library user runs it: greedy
// stories260K continues "Once upon a time" as ../shared/DATA.md says, the
// pieces handed to the callback are the text, and errors name the fields.
#include "eval/generate_job.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "test_paths.h"

namespace lmpack {
namespace {

std::string refused_field(const GenerateRequest& r) {
  try {
    validate_generate_request(r);
  } catch (const Error& e) {
    return e.where();
  }
  return "";
}

TEST(GenerateJob, GreedyContinuationMatchesDataMd) {
  LMPACK_REQUIRE_SHARED();
  GenerateRequest r;
  r.model = testing::shared_path("models/stories260K/stories260K.bin");
  r.tokenizer = testing::shared_path("models/stories260K/tok512.bin");
  r.prompt = "Once upon a time";
  r.max_new_tokens = 48;
  r.echo_prompt = true;
  std::string text;
  int pieces = 0;
  const GenerateReport report = run_generate_job(r, [&](std::string_view piece) {
    text += piece;
    ++pieces;
  });
  const std::string expected =
      "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, "
      "she saw a big, red ball.";
  EXPECT_EQ(text.substr(0, expected.size()), expected);
  EXPECT_GT(pieces, 1);
  EXPECT_GT(report.stats.prompt_tokens, 0);
  EXPECT_LE(report.stats.generated_tokens, 48);
  EXPECT_GE(report.context, report.stats.prompt_tokens);
  EXPECT_GT(report.peak_rss_bytes, 0);
}

TEST(GenerateJob, ErrorsNameTheRequestsFields) {
  GenerateRequest ok;
  ok.model = "m.gguf";
  EXPECT_EQ(refused_field(ok), "");
  GenerateRequest r = ok;
  r.max_new_tokens = -1;
  EXPECT_EQ(refused_field(r), "max_new_tokens");
  r = ok;
  r.temperature = -0.5f;
  EXPECT_EQ(refused_field(r), "temperature");
  r = ok;
  r.top_p = 1.5f;
  EXPECT_EQ(refused_field(r), "top_p");
  r = ok;
  r.model.clear();
  EXPECT_EQ(refused_field(r), "model");
}

}  // namespace
}  // namespace lmpack
