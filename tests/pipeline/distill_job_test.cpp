// run_distill_job on real models and text: a student cut from ts-llama-4.9M
// by structured pruning learns the teacher's distributions (the KL falls),
// is written with the teacher's vocabulary at its new shape, and runs; the
// request's mistakes name their fields; a student of another vocabulary is
// refused.
#include "pipeline/distill_job.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "model/checkpoint.h"
#include "model/load_model.h"
#include "pipeline/gguf_quantize.h"
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

TEST(HiddenStateLayers, PrunedStudentsMatchWhereTheirBlocksCameFromOthersEvenly) {
  EXPECT_EQ(hidden_state_layers(6, 6), (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(hidden_state_layers(2, 6), (std::vector<int64_t>{2, 5}));
  EXPECT_EQ(hidden_state_layers(4, 6), (std::vector<int64_t>{0, 2, 3, 5}));
  EXPECT_EQ(hidden_state_layers(8, 6), (std::vector<int64_t>{0, 0, 1, 2, 2, 3, 4, 5}));
  // Teacher blocks 1 and 4 dropped: kept 0, 2, 3, 5. Student block 0 (teacher
  // 0) feeds teacher block 2, whose input is teacher block 1's output.
  EXPECT_EQ(hidden_state_layers(4, 6, {1, 4}), (std::vector<int64_t>{1, 2, 4, 5}));
  EXPECT_EQ(hidden_state_layers(3, 6, {0, 1, 2}), (std::vector<int64_t>{3, 4, 5}));
  EXPECT_EQ(hidden_state_layers(3, 6, {3, 4, 5}), (std::vector<int64_t>{0, 1, 5}));
}

// The residual streams of student and teacher at the matched blocks:
// sum |s - t|^2 / sum |t|^2 over a window of text, averaged over the blocks.
double hidden_distance(const std::string& student_path, const std::string& teacher_path,
                       const std::vector<int64_t>& layers, const std::vector<int32_t>& tokens) {
  struct States final : BlockOutputObserver {
    std::vector<std::vector<float>> rows;
    void observe(int64_t layer, int64_t first_pos, const float* x, int64_t m, int64_t dim) override {
      if (static_cast<int64_t>(rows.size()) <= layer) rows.resize(static_cast<size_t>(layer + 1));
      rows[layer].resize(static_cast<size_t>((first_pos + m) * dim));
      std::copy_n(x, m * dim, rows[layer].begin() + first_pos * dim);
    }
  };
  auto run = [&](const std::string& path) {
    const Checkpoint c = load_model(path, testing::shared_path("models/stories260K/tok512.bin"));
    auto forward = make_fast_forward(build_weights(c));
    States states;
    forward->set_block_output_observer(&states);
    std::vector<float> logits(tokens.size() * 512);
    forward->forward(tokens.data(), static_cast<int64_t>(tokens.size()), logits.data());
    return states.rows;
  };
  const auto s = run(student_path), t = run(teacher_path);
  double total = 0.0;
  for (size_t i = 0; i < layers.size(); ++i) {
    double d = 0.0, n = 0.0;
    const std::vector<float>& a = s[i];
    const std::vector<float>& b = t[static_cast<size_t>(layers[i])];
    for (size_t j = 0; j < b.size(); ++j) d += std::pow(a[j] - b[j], 2.0), n += std::pow(b[j], 2.0);
    total += d / n;
  }
  return total / static_cast<double>(layers.size());
}

// Hidden-state matching pulls the pruned student's residual stream toward
// the teacher's at the matched blocks, far more than the logits alone do.
TEST(DistillJob, HiddenStateMatchingBringsTheResidualStreamsTogether) {
  LMPACK_REQUIRE_SHARED();
  DistillRequest logits_only = request("logits-only.gguf");
  logits_only.student_prune = StructuredPruneOptions{4, 192, 3, false};
  logits_only.training.lr = 1e-2f;
  run_distill_job(logits_only);
  DistillRequest hidden = request("hidden.gguf");
  hidden.student_prune = logits_only.student_prune;
  hidden.training.lr = logits_only.training.lr;
  hidden.hidden_weight = 10.0f;
  const DistillReport report = run_distill_job(hidden);
  // The cut drops 3 of 6 blocks; the last student block matches the teacher's last.
  ASSERT_EQ(std::count(report.hidden_layers.begin(), report.hidden_layers.end(), '>'), 3) << report.hidden_layers;
  ASSERT_TRUE(report.hidden_layers.ends_with("2->5")) << report.hidden_layers;
  std::vector<int64_t> layers;
  for (size_t at = report.hidden_layers.find("->"); at != std::string::npos; at = report.hidden_layers.find("->", at + 2))
    layers.push_back(report.hidden_layers[at + 2] - '0');
  std::vector<int32_t> tokens = {1};
  for (int i = 0; i < 127; ++i) tokens.push_back(static_cast<int32_t>(32 + (i * 37) % 400));
  const std::string teacher = hidden.teacher;
  const double with = hidden_distance(hidden.training.output, teacher, layers, tokens);
  const double without = hidden_distance(logits_only.training.output, teacher, layers, tokens);
  std::printf("hidden-state distance after 12 steps: %.4f with matching, %.4f with the logits alone\n", with, without);
  EXPECT_LT(with, 0.7 * without);
}

// A student deeper than the teacher matches some teacher blocks from two of
// its blocks; every one of its blocks gets the teacher's states. At the first
// step a fresh student's stream is tiny next to the teacher's, so each
// block's relative distance is about 1 and so is their mean: the hidden term
// adds about hidden_weight to the first loss (a block left without states
// would add 0).
TEST(DistillJob, ADeeperStudentMatchesEveryBlock) {
  LMPACK_REQUIRE_SHARED();
  const std::string config = testing::temp_dir() + "/distill-deep.json";
  std::ofstream(config) << R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 256, "intermediate_size": 64,
    "num_hidden_layers": 8, "num_attention_heads": 8, "num_key_value_heads": 4, "vocab_size": 512,
    "max_position_embeddings": 64, "tie_word_embeddings": true})";
  std::vector<double> first;
  std::string map;
  for (float weight : {0.0f, 2.0f}) {
    DistillRequest r = request(weight > 0.0f ? "deep-hidden.gguf" : "deep.gguf");
    r.student_config = config;
    r.training.steps = 1;
    r.hidden_weight = weight;
    const DistillReport report = run_distill_job(r, [&](const TrainStepLog& s) { first.push_back(s.loss); });
    map = report.hidden_layers;
  }
  EXPECT_EQ(map, "0->0, 1->0, 2->1, 3->2, 4->2, 5->3, 6->4, 7->5");
  ASSERT_EQ(first.size(), 2u);
  EXPECT_NEAR(first[1] - first[0], 2.0, 0.1);
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

// The first `n` stories of the validation file, as a text file of their own.
std::string first_stories(int n) {
  std::ifstream in(testing::shared_path("data/tinystories-valid/tinystories_valid_first1000.txt"));
  const std::string all(std::istreambuf_iterator<char>(in), {});
  size_t end = 0;
  for (int i = 0; i < n; ++i) end = all.find("<|endoftext|>", end) + 13;
  const std::string path = testing::temp_dir() + "/first-stories.txt";
  std::ofstream(path) << all.substr(0, end);
  return path;
}

// The mean KL(teacher || model) over the next-token distributions of the
// first story's first 128 tokens.
double mean_kl(const Checkpoint& teacher, const Checkpoint& model) {
  std::ifstream in(first_stories(1));
  std::string story(std::istreambuf_iterator<char>(in), {});
  story.resize(story.find("<|endoftext|>"));
  std::vector<int32_t> tokens = tokenizer_for(teacher)->encode(story, true);
  tokens.resize(std::min<size_t>(tokens.size(), 128));
  const int64_t n = static_cast<int64_t>(tokens.size()), vocab = teacher.config.vocab_size;
  std::vector<float> p(n * vocab), q(n * vocab);
  make_fast_forward(build_weights(teacher))->forward(tokens.data(), n, p.data());
  make_fast_forward(build_weights(model))->forward(tokens.data(), n, q.data());
  auto log_softmax = [vocab](float* x) {
    const float m = *std::max_element(x, x + vocab);
    double s = 0;
    for (int64_t v = 0; v < vocab; ++v) s += std::exp(static_cast<double>(x[v] - m));
    for (int64_t v = 0; v < vocab; ++v) x[v] = x[v] - m - static_cast<float>(std::log(s));
  };
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    float* a = p.data() + i * vocab;
    float* b = q.data() + i * vocab;
    log_softmax(a);
    log_softmax(b);
    for (int64_t v = 0; v < vocab; ++v) total += std::exp(a[v]) * (a[v] - b[v]);
  }
  return total / static_cast<double>(n);
}

// Distillation into a quantized student: a Q2_K file of the teacher, held on
// Q2_K's grids and distilled on five stories, comes out a Q2_K file (the same
// types) that is closer to the teacher on them than the file it started
// from. (On stories 100-999 at 8 x 256 tokens a step, 150 steps take
// lmpack's GPTQ + imatrix Q2_K file from KL 0.052 to 0.032 on stories 0-99:
// see the README.)
TEST(DistillJob, AQuantizedStudentComesCloserToTheTeacher) {
  LMPACK_REQUIRE_SHARED();
  DistillRequest r = request("q2k.gguf");
  const Checkpoint teacher = load_model(r.teacher, r.tokenizer);
  QuantizeOptions q;
  q.type_name = "Q2_K";
  q.show_progress = false;
  r.student = testing::temp_dir() + "/distill-q2k-start.gguf";
  quantize_to_gguf(teacher, r.student, q);
  r.student_type = "Q2_K";
  r.training.data = {first_stories(5)};
  r.training.steps = 24;
  r.training.batch = 4;
  r.training.lr = 3e-4f;
  r.training.min_lr = 1e-5f;
  const DistillReport report = run_distill_job(r);
  EXPECT_NE(report.student_grid.find("q2_K x"), std::string::npos) << report.student_grid;
  EXPECT_GT(report.start_grid_share, 0.0);
  EXPECT_LE(report.start_grid_share, 1.0);
  const Checkpoint start = load_model(r.student, ""), end = load_model(r.training.output, "");
  for (const auto& [name, t] : start.tensors) EXPECT_EQ(end.tensors.at(name).dtype, t.dtype) << name;
  const double before = mean_kl(teacher, start), after = mean_kl(teacher, end);
  EXPECT_LT(after, 0.85 * before) << "KL to the teacher: " << before << " at the start, " << after << " after";

  DistillRequest folder = request("q2k-folder");
  folder.student = r.student;
  folder.student_type = "Q2_K";
  EXPECT_EQ(error_of(folder), cat("student_type: a quantized student is written as GGUF: ", folder.training.output,
                                  " does not end in .gguf"));
  DistillRequest typed = request("q2k-typed.gguf");
  typed.student = r.student;
  typed.student_type = "Q2_K";
  typed.training.output_type = "f16";
  EXPECT_EQ(error_of(typed), "output_type: the quantized student is written in the types of Q2_K, not f16");
  DistillRequest unknown = request("q2k-unknown.gguf");
  unknown.student = r.student;
  unknown.student_type = "Q2_X";
  EXPECT_EQ(error_of(unknown).rfind("student_type: unknown type 'Q2_X'", 0), 0u) << error_of(unknown);
  DistillRequest imatrix = request("q2k-imatrix.gguf");
  imatrix.student = r.student;
  imatrix.imatrix = "x.imatrix";
  EXPECT_EQ(error_of(imatrix), "imatrix: weights the scale search of a quantized student: give `student_type` too");
}

// The grid is a function of the latent weights and the student file, so a
// quantized student resumed from its state gives the bytes of an unstopped run.
TEST(DistillJob, AResumedQuantizedStudentGivesTheBytesOfAnUnstoppedOne) {
  LMPACK_REQUIRE_SHARED();
  DistillRequest straight = request("q3-straight.gguf");
  QuantizeOptions q;
  q.type_name = "Q3_K_M";
  q.show_progress = false;
  straight.student = testing::temp_dir() + "/distill-q3-start.gguf";
  quantize_to_gguf(load_model(straight.teacher, straight.tokenizer), straight.student, q);
  straight.student_type = "Q3_K_M";
  straight.training.steps = 6;
  straight.training.lr = 3e-4f;
  straight.training.min_lr = 1e-5f;
  run_distill_job(straight);

  DistillRequest stopped = straight;
  stopped.training.output = testing::temp_dir() + "/distill-q3-stopped.gguf";
  stopped.training.save_every = 3;
  EXPECT_THROW(run_distill_job(stopped, [](const TrainStepLog& s) {
                 if (s.step == 4) throw Error("test", "stopped");
               }),
               Error);
  stopped.training.resume = true;
  EXPECT_EQ(run_distill_job(stopped).training.first_step, 3);
  auto bytes = [](const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_EQ(bytes(straight.training.output), bytes(stopped.training.output));
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
  DistillRequest hidden = request("x.gguf");
  hidden.student_prune = StructuredPruneOptions{};
  hidden.hidden_weight = -1.0f;
  EXPECT_EQ(error_of(hidden), "hidden_weight: must be 0 (none) or positive, got -1");
  hidden.hidden_weight = 1.0f;
  hidden.teacher_cache = testing::temp_dir() + "/distill-x.cache";
  EXPECT_EQ(error_of(hidden).rfind("hidden_weight: hidden-state matching needs the teacher's states", 0), 0u)
      << error_of(hidden);
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
  DistillRequest narrow = request("x.gguf");
  narrow.student_config = testing::temp_dir() + "/distill-narrow.json";
  std::ofstream(narrow.student_config) << R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 32,
    "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2, "vocab_size": 512,
    "max_position_embeddings": 64})";
  narrow.hidden_weight = 0.5f;
  EXPECT_EQ(error_of(narrow), "hidden_weight: hidden-state matching compares residual streams of one width: the "
                              "student's is 32, the teacher's 256");
  EXPECT_FALSE(fs::exists(testing::temp_dir() + "/distill-x.gguf"));
}

}  // namespace
}  // namespace lmpack
