// End-to-end: models and options that parse but are wrong (issue 9's audit).
// Each gives one clear line and a non-zero exit, or the right result with a
// warning, never a crash or a silently wrong number: absurd context lengths,
// a block_count below the blocks present, NaN/Inf weights and block scales,
// weights beyond F16's range, vocabularies that do not belong to the model,
// and option values that used to be accepted and ignored.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "core/dtype.h"
#include "gguf_edit.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::describe;
using testing::GgufEdit;
using testing::run_cli;
using testing::scratch_dir;
using testing::shared_path;
using testing::stories260k_bin;
using testing::stories260k_gguf;
using testing::tinystories_valid;
using testing::tok512;

void expect_error(const std::vector<std::string>& args, const std::vector<std::string>& mentions) {
  const CliResult r = run_cli(args);
  EXPECT_EQ(r.exit_code, 1) << describe(args, r);
  EXPECT_EQ(r.err_lines(), 1) << describe(args, r);
  EXPECT_EQ(r.err.rfind("lmpack: ", 0), 0u) << describe(args, r);
  for (const std::string& m : mentions)
    EXPECT_NE(r.err.find(m), std::string::npos) << "'" << m << "' not in\n" << describe(args, r);
}

CliResult expect_success(const std::vector<std::string>& args) {
  CliResult r = run_cli(args);
  EXPECT_EQ(r.exit_code, 0) << describe(args, r);
  return r;
}

std::vector<std::string> eval_args(const std::string& model) {
  return {"eval", model, "--text", tinystories_valid(), "--ctx", "512", "--doc-separator", "<|endoftext|>",
          "--max-docs", "3"};
}

// stories260K.gguf with its float32 value at `index` of `tensor` replaced.
std::string with_f32_value(const std::string& dir, const std::string& name, const std::string& tensor,
                           int64_t index, float value) {
  const std::string out = dir + "/" + name + ".gguf";
  GgufEdit e;
  e.patch = [&](const TensorInfo& t, std::string& bytes) {
    if (t.name == tensor) std::memcpy(bytes.data() + 4 * index, &value, 4);
  };
  testing::rewrite_gguf(stories260k_gguf(), out, e);
  return out;
}

TEST(BadModels, AbsurdContextLengthIsRefusedAtLoad) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = scratch_dir("bad", "context", true);
  // 2^62+1 wrapped the RoPE table sizes (a heap overflow); 2^58 and 2^57+1
  // failed later with "cannot reserve 0 bytes" and std::bad_alloc.
  for (uint64_t context : {(uint64_t{1} << 62) + 1, uint64_t{1} << 58, (uint64_t{1} << 57) + 1}) {
    const std::string model = dir + "/ctx" + std::to_string(context) + ".gguf";
    GgufEdit e;
    e.set["llama.context_length"] = testing::gguf_u64_value(context);
    testing::rewrite_gguf(stories260k_gguf(), model, e);
    for (const char* cmd : {"generate", "info", "eval"}) {
      std::vector<std::string> args = {cmd, model};
      if (std::string(cmd) == "generate") args.insert(args.end(), {"-p", "Once upon a time", "-n", "5"});
      if (std::string(cmd) == "eval") args.insert(args.end(), {"--text", tinystories_valid()});
      expect_error(args, {model, "context length " + std::to_string(context), "limit of 16777216"});
    }
  }
  // The same from a Hugging Face config.json.
  const std::string hf = dir + "/hf";
  fs::create_directories(hf);
  fs::copy_file(shared_path("models/stories260K-hf/model.safetensors"), hf + "/model.safetensors");
  nlohmann::json config = nlohmann::json::parse(testing::slurp(shared_path("models/stories260K-hf/config.json")));
  config["max_position_embeddings"] = (uint64_t{1} << 62) + 1;
  std::ofstream(hf + "/config.json") << config.dump();
  expect_error({"generate", hf, "-p", "Once", "-n", "5", "--tokenizer", tok512()},
               {"config.json", "context length 4611686018427387905"});
}

TEST(BadModels, LongestAllowedContextGeneratesWithinTheRunsNeeds) {
  LMPACK_REQUIRE_SHARED();
  // At the limit (2^24) the model loads, and generate sizes its KV cache and
  // RoPE tables by prompt + n, not by the context: it runs in a few MiB.
  const std::string dir = scratch_dir("bad", "long-context", true);
  const std::string model = dir + "/ctx16M.gguf";
  GgufEdit e;
  e.set["llama.context_length"] = testing::gguf_u64_value(uint64_t{1} << 24);
  testing::rewrite_gguf(stories260k_gguf(), model, e);
  const CliResult r = expect_success({"generate", model, "-p", "Once upon a time", "-n", "8"});
  EXPECT_EQ(r.out.rfind("Once upon a time, there was", 0), 0u) << r.out;
}

TEST(BadModels, BlockCountBelowTheBlocksPresentIsRefused) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = scratch_dir("bad", "blocks", true);
  const std::string model = dir + "/three-of-five.gguf";
  GgufEdit e;
  e.set["llama.block_count"] = testing::gguf_u32_value(3);
  testing::rewrite_gguf(stories260k_gguf(), model, e);
  for (const char* cmd : {"info", "eval", "generate", "quantize"}) {
    std::vector<std::string> args = {cmd, model};
    if (std::string(cmd) == "eval") args.insert(args.end(), {"--text", tinystories_valid()});
    if (std::string(cmd) == "generate") args.insert(args.end(), {"-p", "Once"});
    if (std::string(cmd) == "quantize") args.insert(args.end(), {dir + "/q.gguf", "Q8_0"});
    expect_error(args, {model, "blk.3.", "belongs to block 3 but the config has 3 blocks"});
  }
  EXPECT_FALSE(fs::exists(dir + "/q.gguf"));
}

TEST(BadModels, NonFiniteWeightsNameTheTensorInsteadOfPerplexityNan) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = scratch_dir("bad", "nan", true);
  for (float bad : {std::nanf(""), INFINITY}) {
    const std::string model =
        with_f32_value(dir, std::isnan(bad) ? "nan" : "inf", "blk.1.ffn_up.weight", 64 * 7 + 3, bad);
    expect_error(eval_args(model), {model, "tensor blk.1.ffn_up.weight row 7 column 3 holds"});
    expect_error({"generate", model, "-p", "Once upon a time", "-n", "4"},
                 {model, "tensor blk.1.ffn_up.weight row 7 column 3 holds"});
    // Quantizing it is refused too (the input row is named), leaving no file.
    expect_error({"quantize", model, dir + "/q.gguf", "Q8_0"}, {"blk.1.ffn_up.weight", "non-finite value in row 7"});
    EXPECT_FALSE(fs::exists(dir + "/q.gguf"));
  }
}

TEST(BadModels, NonFiniteBlockScaleInQ40IsReported) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = scratch_dir("bad", "scale", true);
  const std::string q40 = dir + "/q40.gguf";
  expect_success({"quantize", stories260k_gguf(), q40, "Q4_0", "--pure"});
  for (uint16_t bits : {uint16_t{0x7e00}, uint16_t{0x7c00}}) {  // NaN, +Inf as F16
    const std::string model = dir + (bits == 0x7e00 ? "/nan-scale.gguf" : "/inf-scale.gguf");
    GgufEdit e;
    e.patch = [&](const TensorInfo& t, std::string& bytes) {  // block 5: row 2, second block of 32
      if (t.name == "blk.2.attn_q.weight") std::memcpy(bytes.data() + 18 * 5, &bits, 2);
    };
    testing::rewrite_gguf(q40, model, e);
    expect_error(eval_args(model), {model, "tensor blk.2.attn_q.weight row 2 column 32 holds"});
  }
}

TEST(BadModels, WeightsBeyondF16RangeAreRefusedNotStoredAsInfinity) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = scratch_dir("bad", "f16-range", true);
  const std::string model = with_f32_value(dir, "big", "blk.0.ffn_up.weight", 64 * 2 + 5, 1.0e6f);
  // Q4_0's scale would be 1e6/8 > 65504; F16 cannot hold 1e6 at all.
  expect_error({"quantize", model, dir + "/q40.gguf", "Q4_0", "--pure"},
               {"blk.0.ffn_up.weight", "row 2", "beyond the range of q4_0", "F32 or BF16"});
  expect_error({"quantize", model, dir + "/f16.gguf", "F16"}, {"blk.0.ffn_up.weight", "F16"});
  expect_error({"convert", model, dir + "/hf", "--type", "f16"}, {"blk.0.ffn_up.weight", "exceeds the range of F16"});
  EXPECT_FALSE(fs::exists(dir + "/q40.gguf"));
  EXPECT_FALSE(fs::exists(dir + "/f16.gguf"));
  EXPECT_FALSE(fs::exists(dir + "/hf"));
  // Q8_0 holds it (scale 1e6/127 fits F16), and BF16 does: both succeed.
  expect_success({"quantize", model, dir + "/q80.gguf", "Q8_0", "--pure"});
  expect_success({"quantize", model, dir + "/bf16.gguf", "BF16"});
}

TEST(BadModels, VocabularyFromAnotherModelIsRefused) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = scratch_dir("bad", "vocab", true);
  // A GGUF whose embedded vocabulary has 10 tokens for 512 embedding rows.
  const GgufFile g = read_gguf(stories260k_gguf());
  GgufEdit e;
  for (const char* key : {"tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type"}) {
    const GgufValue& full = *g.find(key);
    GgufValue v = full;
    v.array = GgufArray(full.array.type());
    for (size_t k = 0; k < 10; ++k) v.array.push_back(full.array[k]);
    e.set[key] = v;
  }
  const std::string ten = dir + "/ten-tokens.gguf";
  testing::rewrite_gguf(stories260k_gguf(), ten, e);
  expect_error(eval_args(ten), {ten, "vocabulary has 10 tokens but token_embd.weight has 512 rows"});
  expect_error({"tokenize", ten, "--text", "Once upon a time"}, {ten, "vocabulary has 10 tokens"});

  // tok512.bin cut after its first 300 tokens, given with --tokenizer.
  const std::string bytes = testing::slurp(tok512());
  size_t pos = 4;
  for (int i = 0; i < 300; ++i) {
    int32_t len = 0;
    std::memcpy(&len, bytes.data() + pos + 4, 4);
    pos += 8 + static_cast<size_t>(len);
  }
  const std::string cut = dir + "/tok300.bin";
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, pos);
  expect_error({"eval", stories260k_bin(), "--tokenizer", cut, "--text", tinystories_valid()},
               {"vocabulary has 300 tokens but token_embd.weight has 512 rows"});
}

TEST(BadModels, BytePairVocabularyWithoutMergesIsRefusedEverywhere) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = scratch_dir("bad", "merges", true);
  const std::string model = dir + "/gpt2-no-merges.gguf";
  GgufEdit e;
  GgufValue gpt2;
  gpt2.type = GgufType::kString;
  gpt2.str = "gpt2";
  e.set["tokenizer.ggml.model"] = gpt2;
  e.drop_keys = {"tokenizer.ggml.merges", "tokenizer.ggml.scores"};
  testing::rewrite_gguf(stories260k_gguf(), model, e);
  // eval used to run (scoring byte-by-byte tokens) while quantize refused.
  expect_error(eval_args(model), {"has no merges"});
  expect_error({"quantize", model, dir + "/q.gguf", "Q8_0"}, {"has no merges"});
}

TEST(BadModels, BadMagicGgufIsReportedAsGguf) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = scratch_dir("bad", "magic", true);
  for (size_t n : {0, 1, 3}) {
    const std::string model = dir + "/short" + std::to_string(n) + ".gguf";
    std::ofstream(model, std::ios::binary) << std::string("GGU").substr(0, n);
    expect_error({"info", model}, {model, "magic"});
  }
  const std::string model = dir + "/bad-magic.gguf";
  std::ofstream(model, std::ios::binary) << "GGUX" << std::string(64, '\0');
  expect_error({"info", model}, {model, "not a GGUF file"});
  const CliResult r = run_cli({"info", model});
  EXPECT_EQ(r.err.find("llama2.c"), std::string::npos) << r.err;
}

TEST(BadOptions, ThreadCountIsClampedToTheHardware) {
  LMPACK_REQUIRE_SHARED();
  const CliResult r = expect_success({"info", stories260k_gguf(), "-t", "100000"});
  EXPECT_NE(r.err.find("-t 100000: this machine has"), std::string::npos) << r.err;
  expect_error({"info", stories260k_gguf(), "-t", "-3"}, {"-t", "must be >= 0"});
}

TEST(BadOptions, PruneValuesThatPruneNothingAreRefused) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = scratch_dir("bad", "prune", true);
  const std::string out = dir + "/p.gguf";
  expect_error({"prune", stories260k_gguf(), out, "--pattern", "0:0"}, {"--pattern", "0 < N < M"});
  for (const char* s : {"-0.1", "nan", "0", "1"})
    expect_error({"prune", stories260k_gguf(), out, "--sparsity", s}, {"--sparsity", "must be in (0, 1)"});
  EXPECT_FALSE(fs::exists(out));
  const CliResult help = run_cli({"prune", "--help"});
  EXPECT_NE(help.out.find("in (0, 1)"), std::string::npos) << help.out;
}

TEST(BadOptions, UnknownCommandListsEveryCommand) {
  const CliResult r = run_cli({"prnue"});
  EXPECT_EQ(r.exit_code, 1);
  for (const char* c : {"info", "tokenize", "generate", "eval", "convert", "quantize", "imatrix", "prune",
                        "random-model"})
    EXPECT_NE(r.err.find(c), std::string::npos) << c << " missing from: " << r.err;
}

TEST(BadOptions, AbsurdCalibrationSizeIsAClearError) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = scratch_dir("bad", "calib", true);
  expect_error({"imatrix", stories260k_gguf(), "--calib", tinystories_valid(), "--calib-samples", "1000000000000",
                "-o", dir + "/im.gguf"},
               {"--calib-samples", "exceed lmpack's limit of 16777216 calibration tokens"});
  EXPECT_FALSE(fs::exists(dir + "/im.gguf"));
}

TEST(BadOptions, ContextBeyondTheModelsIsAWarningForEvalAndCalibrationAlike) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = scratch_dir("bad", "ctx-warning", true);
  // stories260K.bin was trained (and says) 512.
  const CliResult e = expect_success({"eval", stories260k_bin(), "--tokenizer", tok512(), "--text", tinystories_valid(), "--ctx", "1024",
                                      "--chunks", "1"});
  EXPECT_NE(e.err.find("warning: --ctx 1024 exceeds the model's context of 512 tokens"), std::string::npos) << e.err;
  const CliResult i = expect_success({"imatrix", stories260k_bin(), "--tokenizer", tok512(), "--calib", tinystories_valid(), "--calib-ctx",
                                      "1024", "--calib-samples", "1", "-o", dir + "/im.gguf"});
  EXPECT_NE(i.err.find("warning: --calib-ctx 1024 exceeds the model's context of 512 tokens"), std::string::npos)
      << i.err;
}

TEST(BadOptions, DefaultCalibrationWindowFitsAShortContextModel) {
  LMPACK_REQUIRE_SHARED();
  // ts-llama-4.9M was trained at 256: the default window is 256, not 512.
  const std::string dir = scratch_dir("bad", "calib-default", true);
  const CliResult r = expect_success({"imatrix", testing::ts_llama_bin(), "--tokenizer", tok512(), "--calib",
                                      testing::calibration_stories_file(), "--calib-samples", "4", "-o",
                                      dir + "/im.gguf"});
  EXPECT_NE(r.out.find("from 4 windows of 256 tokens"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace lmpack
