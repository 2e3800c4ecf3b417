// run_distill_job on real models and text: a student cut from ts-llama-4.9M
// by structured pruning learns the teacher's distributions (the KL falls),
// is written with the teacher's vocabulary at its new shape, and runs; the
// request's mistakes name their fields; a student of another vocabulary is
// refused.
#include "pipeline/distill_job.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "model/checkpoint.h"
#include "runtime/forward.h"
#include "runtime/weights.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

std::string error_of(const DistillRequest& r) {
  try {
    run_distill_job(r);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

DistillRequest request(const std::string& out) {
  DistillRequest r;
  r.teacher = testing::shared_path("models/ts-llama-4.9M/ts-llama-4.9M.bin");
  r.tokenizer = testing::shared_path("models/stories260K/tok512.bin");
  r.training.data = {testing::shared_path("data/tinystories-valid/tinystories_valid_first1000.txt")};
  r.training.batch = 2;
  r.training.seq = 64;
  r.training.steps = 12;
  r.training.lr = 2e-3f;
  r.prune_windows = 4;
  r.training.output = testing::temp_dir() + "/distill-" + out;
  return r;
}

TEST(DistillJob, APrunedStudentLearnsTheTeacher) {
  LMPACK_REQUIRE_SHARED();
  DistillRequest r = request("pruned.gguf");
  r.student_prune = StructuredPruneOptions{4, 192, 3, false};
  r.temperature = 2.0f;
  std::vector<double> losses;
  const DistillReport report = run_distill_job(r, [&](const TrainStepLog& s) { losses.push_back(s.loss); });
  EXPECT_EQ(report.teacher_parameters, 4852992);
  EXPECT_EQ(report.student_parameters, 870144);
  EXPECT_NE(report.prune_summary.find("blocks 6 -> 3"), std::string::npos) << report.prune_summary;
  ASSERT_EQ(losses.size(), 12u);
  double first = 0, last = 0;
  for (int i = 0; i < 3; ++i) first += losses[i], last += losses[9 + i];
  EXPECT_LT(last, 0.8 * first) << "the distillation loss did not fall";
  const Checkpoint student = load_checkpoint(r.training.output);
  EXPECT_EQ(student.config.n_layers, 3);
  EXPECT_EQ(student.config.hidden_dim, 192);
  ASSERT_TRUE(student.vocab.has_value());
  EXPECT_EQ(student.vocab->size(), 512);
  std::vector<int32_t> tokens = {1, 403, 261, 275};
  std::vector<float> logits(4 * 512);
  make_fast_forward(build_weights(student))->forward(tokens.data(), 4, logits.data());
  for (float v : logits) ASSERT_TRUE(std::isfinite(v));
}

// No data set: the teacher writes the text, and a student from a config
// learns from it.
TEST(DistillJob, TeacherSamplesAreTheText) {
  LMPACK_REQUIRE_SHARED();
  DistillRequest r = request("sampled.gguf");
  r.training.data.clear();
  r.teacher_samples = 6;
  r.student_config = testing::temp_dir() + "/distill-student.json";
  std::ofstream(r.student_config) << R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 64,
    "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
    "vocab_size": 512, "max_position_embeddings": 256, "tie_word_embeddings": true})";
  const DistillReport report = run_distill_job(r);
  EXPECT_GT(report.sampled_tokens, 6 * 8) << "the teacher wrote almost nothing";
  EXPECT_LE(report.sampled_tokens, 6 * 64);
  EXPECT_EQ(report.training.data_tokens, report.sampled_tokens);
  EXPECT_EQ(report.training.steps, 12);
  // The same seed samples the same text.
  r.training.output = testing::temp_dir() + "/distill-sampled2.gguf";
  EXPECT_EQ(run_distill_job(r).sampled_tokens, report.sampled_tokens);
  r.training.data = {testing::shared_path("data/tinystories-valid/tinystories_valid_first1000.txt")};
  EXPECT_EQ(error_of(r), "teacher_samples: the text is either `data` or sampled from the teacher, not both");
}

// A teacher cache: the first run writes every batch, a second student run
// reads them all (the teacher does not run) and learns exactly what it would
// have learnt from the teacher itself.
TEST(DistillJob, ATeacherCacheServesTheNextRunWithTheSameResult) {
  LMPACK_REQUIRE_SHARED();
  DistillRequest r = request("cached1.gguf");
  r.student_config = testing::temp_dir() + "/distill-cache-student.json";
  std::ofstream(r.student_config) << R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 64,
    "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
    "vocab_size": 512, "max_position_embeddings": 256, "tie_word_embeddings": true})";
  r.teacher_cache = testing::temp_dir() + "/distill.cache";
  fs::remove(r.teacher_cache);
  r.cache_top_k = 16;
  r.training.steps = 5;
  const DistillReport first = run_distill_job(r);
  EXPECT_EQ(first.cached_batches_written, 5);
  EXPECT_EQ(first.cached_batches_read, 0);
  r.training.output = testing::temp_dir() + "/distill-cached2.gguf";
  const DistillReport second = run_distill_job(r);
  EXPECT_EQ(second.cached_batches_read, 5);
  EXPECT_EQ(second.cached_batches_written, 0);
  auto bytes = [](const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_EQ(bytes(testing::temp_dir() + "/distill-cached1.gguf"), bytes(r.training.output));
  // Another batch size is another run: refused, naming what differs.
  r.training.batch = 3;
  r.training.output = testing::temp_dir() + "/distill-cached3.gguf";
  EXPECT_EQ(error_of(r), r.teacher_cache + ": is the teacher cache of another run: its batch is 2, not 3");
}

TEST(DistillJob, MistakesNameTheirFields) {
  LMPACK_REQUIRE_SHARED();
  DistillRequest none = request("x.gguf");
  EXPECT_EQ(error_of(none).rfind("student: give exactly one of", 0), 0u) << error_of(none);
  DistillRequest t = request("x.gguf");
  t.student_prune = StructuredPruneOptions{};
  t.temperature = 0.0f;
  EXPECT_EQ(error_of(t), "temperature: must be a positive number, got 0");
  DistillRequest a = request("x.gguf");
  a.student_prune = StructuredPruneOptions{};
  a.alpha = 1.5f;
  EXPECT_EQ(error_of(a), "alpha: must be between 0 and 1, got 1.5");
  DistillRequest heads = request("x.gguf");
  heads.student_prune = StructuredPruneOptions{3, 0, 0, false};
  EXPECT_EQ(error_of(heads).rfind("structure.heads:", 0), 0u) << error_of(heads);
  // stories260K's 512 tokens are tok512 too, but a student config of another
  // vocabulary size cannot be the teacher's.
  DistillRequest other = request("x.gguf");
  other.student_config = testing::temp_dir() + "/distill-config.json";
  std::ofstream(other.student_config) << R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 32,
    "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2, "vocab_size": 520,
    "max_position_embeddings": 64})";
  EXPECT_EQ(error_of(other).rfind("student: the student's vocabulary (520 rows) is not the teacher's (512 rows)", 0),
            0u)
      << error_of(other);
  EXPECT_FALSE(fs::exists(testing::temp_dir() + "/distill-x.gguf"));
}

}  // namespace
}  // namespace lmpack
