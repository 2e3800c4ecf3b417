// The eval job (eval/eval_job.h) as a library user runs it: stories260K on
// TinyStories in document and window mode against ../shared/DATA.md, saved
// log-probabilities compared with themselves (KL 0), the warning for a ctx
// beyond the trained context, and errors that name the request's fields.
#include "eval/eval_job.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

EvalRequest stories_request() {
  EvalRequest r;
  r.model = testing::shared_path("models/stories260K/stories260K.bin");
  r.tokenizer = testing::shared_path("models/stories260K/tok512.bin");
  r.text = testing::shared_path("data/tinystories-valid/tinystories_valid_first1000.txt");
  return r;
}

// The field an invalid request is refused for, "" when it is not.
std::string refused_field(const EvalRequest& r, std::string* problem = nullptr) {
  try {
    validate_eval_request(r);
  } catch (const Error& e) {
    if (problem != nullptr) *problem = e.problem();
    return e.where();
  }
  return "";
}

TEST(EvalJob, DocumentsMatchDataMd) {
  LMPACK_REQUIRE_SHARED();
  EvalRequest r = stories_request();
  r.doc_separator = "<|endoftext|>";
  r.max_docs = 20;
  r.ctx = 512;
  const EvalReport report = run_eval_job(r);
  EXPECT_NEAR(report.result.perplexity, 3.492, 0.002);
  EXPECT_EQ(report.result.scored, 6496);
  EXPECT_EQ(report.positions, 6496);
  EXPECT_EQ(report.result.sequences, 20);
  EXPECT_TRUE(report.documents);
  EXPECT_EQ(report.ctx, 512);
  EXPECT_NEAR(report.nll_mean, std::log(report.result.perplexity), 1e-9);
  EXPECT_GT(report.peak_rss_bytes, 0);
  EXPECT_FALSE(report.kl.has_value());
  EXPECT_TRUE(report.warnings.empty());
}

TEST(EvalJob, SavedLogitsAgainstThemselvesGiveZeroKl) {
  LMPACK_REQUIRE_SHARED();
  const std::string logits = testing::temp_dir() + "/eval-job-base.logits";
  EvalRequest r = stories_request();
  r.ctx = 128;
  r.chunks = 4;
  r.save_logits = logits;
  const EvalReport saved = run_eval_job(r);
  EXPECT_FALSE(saved.documents);
  EXPECT_EQ(saved.result.sequences, 4);
  EXPECT_EQ(saved.positions, 4 * 127);
  ASSERT_TRUE(fs::exists(logits));

  r.save_logits.reset();
  r.base = logits;
  const EvalReport compared = run_eval_job(r);
  ASSERT_TRUE(compared.kl.has_value());
  EXPECT_NEAR(compared.kl->kl_mean, 0.0, 1e-6);
  EXPECT_DOUBLE_EQ(compared.kl->top1_agreement, 1.0);
  EXPECT_NEAR(compared.kl->base_perplexity, saved.result.perplexity, 1e-6);  // stored as float
}

TEST(EvalJob, CtxBeyondTheTrainedContextIsAWarningNamingTheField) {
  LMPACK_REQUIRE_SHARED();
  EvalRequest r = stories_request();  // stories260K.bin was trained at 512
  r.ctx = 1024;
  r.chunks = 1;
  const EvalReport report = run_eval_job(r);
  ASSERT_EQ(report.warnings.size(), 1u);
  EXPECT_EQ(report.warnings[0].rfind("`ctx` 1024 exceeds the model's context of 512 tokens", 0), 0u)
      << report.warnings[0];
  EXPECT_EQ(report.ctx, 1024);
}

TEST(EvalJob, ErrorsNameTheRequestsFields) {
  const std::string text = testing::temp_dir() + "/eval-job-text.txt";
  std::ofstream(text) << "Once upon a time";
  EvalRequest ok;
  ok.model = "m.gguf";
  ok.text = text;
  EXPECT_EQ(refused_field(ok), "");

  std::string problem;
  EvalRequest r = ok;
  r.ctx = 1;
  EXPECT_EQ(refused_field(r), "ctx");
  r = ok;
  r.chunks = -1;
  EXPECT_EQ(refused_field(r), "chunks");
  r = ok;
  r.max_docs = 3;
  EXPECT_EQ(refused_field(r, &problem), "max_docs");
  EXPECT_EQ(problem, "only applies with `doc_separator`");
  r = ok;
  r.doc_separator = "";
  EXPECT_EQ(refused_field(r), "doc_separator");
  r = ok;
  r.doc_separator = "\n\n";
  r.chunks = 0;
  EXPECT_EQ(refused_field(r, &problem), "chunks");
  EXPECT_EQ(problem, "only applies to window mode (without `doc_separator`)");
  r = ok;
  r.doc_separator = "\n\n";
  r.score_second_half = true;
  EXPECT_EQ(refused_field(r), "score_second_half");
  r = ok;
  r.text = text + ".missing";
  EXPECT_EQ(refused_field(r, &problem), "text");
  EXPECT_EQ(problem, text + ".missing: no such file or directory");
  r = ok;
  r.base = text + ".missing";
  EXPECT_EQ(refused_field(r), "base");
  r = ok;
  r.save_logits = "";
  EXPECT_EQ(refused_field(r), "save_logits");
}

TEST(EvalJob, MissingTokenizerIsNamedBeforeTheModelIsRead) {
  const std::string text = testing::temp_dir() + "/eval-job-text2.txt";
  std::ofstream(text) << "Once upon a time";
  EvalRequest r;
  r.model = text;  // never read: the tokenizer is checked first
  r.tokenizer = testing::temp_dir() + "/no-such-tok.bin";
  r.text = text;
  try {
    run_eval_job(r);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), "tokenizer");
    EXPECT_EQ(e.problem(), r.tokenizer + ": no such file or directory");
  }
}

TEST(EvalJob, SaveLogitsThatWouldReplaceAnInputIsRefusedFirst) {
  const std::string text = testing::temp_dir() + "/eval-job-text3.txt";
  std::ofstream(text) << "Once upon a time";
  EvalRequest r;
  r.model = testing::temp_dir() + "/no-such-model.gguf";
  r.text = text;
  r.save_logits = text;
  try {
    run_eval_job(r);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), text);
  }
  EXPECT_TRUE(fs::exists(text));
}

}  // namespace
}  // namespace lmpack
