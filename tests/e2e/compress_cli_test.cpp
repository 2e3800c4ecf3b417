// End-to-end: `lmpack compress MODEL OUT --recipe FILE` on ts-llama-4.9M —
// a three-step recipe (structured FFN cut -> SparseGPT 2:4 -> GPTQ onto
// Q4_K_M) gives the same bytes as its steps run as three commands, each on
// the file the one before wrote; the file carries the recipe (lmpack.recipe),
// keeps the 2:4 zeros and the cut, and evaluates; recipe and option mistakes
// are one line, exit 1, no output and no temporary left. (llama.cpp loading
// the file and agreeing on its perplexity: llamacpp_compat_test.cpp,
// Issue10Recipe.)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "fault_helpers.h"
#include "formats/decode.h"
#include "io/gguf.h"
#include "model/checkpoint.h"
#include "model/tensor_names.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;
using testing::describe;
using testing::run_cli;
using testing::scratch_dir;
using testing::slurp;

std::string write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

// The file's lmpack.recipe as JSON (null when it has none).
nlohmann::json recipe_of(const std::string& path) {
  const GgufFile g = read_gguf(path);
  const GgufValue* v = g.find("lmpack.recipe");
  return v == nullptr ? nlohmann::json() : nlohmann::json::parse(v->str);
}

std::vector<std::string> with_calibration(std::vector<std::string> args) {
  args.insert(args.end(), {"--calib", testing::calibration_stories_file(), "--calib-samples", "16", "--calib-ctx",
                           "128"});
  return args;
}

TEST(CompressCli, ThreeStepRecipeEqualsItsStepsRunOneByOne) {
  LMPACK_REQUIRE_SHARED();
  const std::string d = scratch_dir("compress", "three-steps", true);
  const std::string model = testing::ts_llama_bin();
  const std::string recipe = write_file(d + "/r.json", R"({"steps": [
      {"structured": {"ffn_width": 512}},
      {"prune": {"method": "sparsegpt", "pattern": "2:4"}},
      {"quantize": {"method": "gptq", "type": "Q4_K_M"}}]})");
  auto args = with_calibration({"compress", model, d + "/all.gguf", "--recipe", recipe, "--tokenizer", testing::tok512()});
  auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_EQ(testing::names_in(d), (std::vector<std::string>{"all.gguf", "r.json"})) << "a temporary was left";

  // The same steps as three one-step recipes, each on the file the last wrote.
  const char* steps[] = {R"({"steps": [{"structured": {"ffn_width": 512}}]})",
                         R"({"steps": [{"prune": {"method": "sparsegpt", "pattern": "2:4"}}]})",
                         R"({"steps": [{"quantize": {"method": "gptq", "type": "Q4_K_M"}}]})"};
  std::string in = model;
  for (int i = 0; i < 3; ++i) {
    const std::string out = d + "/step" + std::to_string(i + 1) + ".gguf";
    auto a = with_calibration({"compress", in, out, "--recipe", write_file(d + "/s.json", steps[i]), "--name",
                               "ts-llama-4.9M"});
    if (i == 0) a.insert(a.end(), {"--tokenizer", testing::tok512()});
    auto s = run_cli(a);
    ASSERT_EQ(s.exit_code, 0) << describe(a, s);
    in = out;
  }
  EXPECT_TRUE(slurp(d + "/all.gguf") == slurp(d + "/step3.gguf")) << "the one-run and three-run files differ";

  // The recipe travels in the file, each step as the job recorded it.
  const nlohmann::json recorded = recipe_of(d + "/all.gguf");
  ASSERT_TRUE(recorded.is_array()) << "no lmpack.recipe";
  ASSERT_EQ(recorded.size(), 3u) << recorded.dump();
  EXPECT_EQ(recorded[0]["step"], "structured");
  EXPECT_EQ(recorded[0]["ffn_width"], 512);
  EXPECT_EQ(recorded[1]["method"], "sparsegpt");
  EXPECT_EQ(recorded[1]["pattern"], "2:4");
  EXPECT_EQ(recorded[2]["method"], "gptq");
  EXPECT_EQ(recorded[2]["type"], "Q4_K_M");
  EXPECT_EQ(recorded[2]["calibration"]["samples"], 16);

  // The cut and the 2:4 zeros are in the file: the FFN is 512 wide, and the
  // Q4_K_M codes of every ffn_gate row keep >= 2 zeros in each 4 (Q4_K holds
  // a zero only up to its block minimum, so count on a symmetric tensor:
  // attn_v is Q6_K in Q4_K_M for half the layers, which holds 0 exactly).
  const Checkpoint c = load_checkpoint(d + "/all.gguf");
  EXPECT_EQ(c.config.hidden_dim, 512);
  int64_t checked = 0;
  for (int64_t l = 0; l < c.config.n_layers; ++l) {
    const TensorInfo& t = c.tensor(cat("blk.", l, ".attn_v.weight"));
    if (t.dtype != DType::Q6_K) continue;
    std::vector<float> w(static_cast<size_t>(t.n_elements()));
    decode_to_f32(w.data(), t.data, t.dtype, t.n_elements());
    for (size_t g4 = 0; g4 < w.size(); g4 += 4) {
      int zeros = 0;
      for (size_t k = g4; k < g4 + 4; ++k) zeros += w[k] == 0.0f;
      ASSERT_GE(zeros, 2) << t.name << " group at " << g4;
    }
    ++checked;
  }
  EXPECT_GT(checked, 0) << "no Q6_K attn_v to count zeros on";

  // And it evaluates.
  auto ev = run_cli({"eval", d + "/all.gguf", "--text", testing::tinystories_valid(), "--doc-separator",
                     "<|endoftext|>", "--max-docs", "10", "--ctx", "256", "--json"});
  ASSERT_EQ(ev.exit_code, 0) << ev.err;
  const double ppl = nlohmann::json::parse(ev.out)["perplexity"].get<double>();
  std::printf("ts-llama-4.9M, FFN 768->512, SparseGPT 2:4, GPTQ Q4_K_M: perplexity %.3f\n", ppl);
  EXPECT_TRUE(ppl > 1.0 && ppl < 1000.0) << ppl;
}

// Issue 11: a distill step. A cut, distilled back towards the input model on
// the calibration text, then quantized; and a quantized student as the last
// step. Each file records its steps and runs; nothing else is left.
TEST(CompressCli, RecipesWithADistillStep) {
  LMPACK_REQUIRE_SHARED();
  const std::string d = scratch_dir("compress", "distill", true);
  const std::string recipe = write_file(d + "/r.json", R"({"steps": [
      {"structured": {"ffn_width": 192, "drop_blocks": 3}},
      {"distill": {"steps": 6, "batch": 2, "seq": 64, "lr": 0.002, "temperature": 2}},
      {"quantize": {"type": "Q4_K_M"}}]})");
  auto args = with_calibration({"compress", testing::ts_llama_bin(), d + "/cut.gguf", "--recipe", recipe,
                                "--tokenizer", testing::tok512()});
  auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  EXPECT_NE(r.out.find("step 2: {\"alpha\":1.0,\"batch\":2,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("distilled on 768 tokens"), std::string::npos) << r.out;
  EXPECT_EQ(testing::names_in(d), (std::vector<std::string>{"cut.gguf", "r.json"})) << "a temporary was left";
  const nlohmann::json recorded = recipe_of(d + "/cut.gguf");
  ASSERT_TRUE(recorded.is_array()) << "no lmpack.recipe";
  ASSERT_EQ(recorded.size(), 3u) << recorded.dump();
  EXPECT_EQ(recorded[1]["step"], "distill");
  EXPECT_EQ(recorded[1]["steps"], 6);
  EXPECT_EQ(recorded[1]["data"][0], "stories200-999.txt");  // the calibration text
  EXPECT_EQ(recorded[2]["type"], "Q4_K_M");
  const Checkpoint c = load_checkpoint(d + "/cut.gguf");
  EXPECT_EQ(c.config.n_layers, 3);
  EXPECT_EQ(c.config.hidden_dim, 192);

  // The last step a quantized student, on Q2_K's grids from the input model.
  const std::string q = write_file(d + "/q.json", R"({"steps": [
      {"distill": {"steps": 2, "batch": 2, "seq": 64, "lr": 0.0003, "type": "Q2_K"}}]})");
  args = with_calibration({"compress", testing::ts_llama_bin(), d + "/q2k.gguf", "--recipe", q, "--tokenizer",
                           testing::tok512(), "--name", "tiny-q2k"});
  r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  const Checkpoint q2k = load_checkpoint(d + "/q2k.gguf");
  EXPECT_EQ(q2k.tensor("blk.0.ffn_gate.weight").dtype, DType::Q2_K);
  EXPECT_EQ(read_gguf(d + "/q2k.gguf").get_string("general.name"), "tiny-q2k");
  EXPECT_EQ(testing::names_in(d), (std::vector<std::string>{"cut.gguf", "q.json", "q2k.gguf", "r.json"}));

  // A float student last, after a cut: named after the job's input, not
  // after the temporary file the cut went to.
  const std::string f = write_file(d + "/f.json", R"({"steps": [{"structured": {"drop_blocks": 4}},
      {"distill": {"steps": 1, "batch": 1, "seq": 32}}]})");
  args = with_calibration({"compress", testing::ts_llama_bin(), d + "/f.gguf", "--recipe", f, "--tokenizer",
                           testing::tok512()});
  r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  EXPECT_EQ(read_gguf(d + "/f.gguf").get_string("general.name"), "ts-llama-4.9M");
  EXPECT_EQ(load_checkpoint(d + "/f.gguf").config.n_layers, 2);
  auto ev = run_cli({"eval", d + "/q2k.gguf", "--text", testing::tinystories_valid(), "--doc-separator",
                     "<|endoftext|>", "--max-docs", "4", "--ctx", "256", "--json"});
  EXPECT_EQ(ev.exit_code, 0) << ev.err;
}

TEST(CompressCli, GptqFolderAndFloatFolderOutputs) {
  LMPACK_REQUIRE_SHARED();
  const std::string d = scratch_dir("compress", "folders", true);
  // Wanda 25% then GPTQ onto 4-bit groups of 64: a GPTQ folder that records both steps.
  const std::string g = write_file(d + "/g.json", R"({"steps": [{"prune": {"method": "wanda", "sparsity": 0.25}},
      {"quantize": {"method": "gptq", "format": "gptq", "bits": 4, "group_size": 64}}]})");
  auto args = with_calibration({"compress", testing::ts_llama_bin(), d + "/gq", "--recipe", g, "--tokenizer",
                                testing::tok512()});
  auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  const nlohmann::json config = nlohmann::json::parse(slurp(d + "/gq/config.json"));
  const nlohmann::json& q = config.at("quantization_config");
  EXPECT_EQ(q.at("quant_method"), "gptq");
  EXPECT_EQ(q.at("group_size"), 64);
  ASSERT_EQ(q.at("lmpack_recipe").size(), 2u) << q.dump();
  EXPECT_EQ(q["lmpack_recipe"][0]["method"], "wanda");
  EXPECT_EQ(q["lmpack_recipe"][1]["format"], "gptq");
  auto info = run_cli({"info", d + "/gq", "--tokenizer", testing::tok512()});
  EXPECT_EQ(info.exit_code, 0) << info.err;

  // Drop a block, then magnitude 2:4 in F32: a float folder with 5 blocks whose linears hold 2 zeros in every 4.
  const std::string h = write_file(d + "/h.json", R"({"steps": [{"structured": {"drop_blocks": 1}},
      {"prune": {"method": "magnitude", "pattern": "2:4"}}]})");
  args = with_calibration({"compress", testing::ts_llama_bin(), d + "/hf", "--recipe", h, "--tokenizer",
                           testing::tok512()});
  r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  LoadOptions lo;
  lo.tokenizer_path = testing::tok512();
  const Checkpoint c = load_checkpoint(d + "/hf", lo);
  EXPECT_EQ(c.config.n_layers, 5);
  for (int64_t l = 0; l < c.config.n_layers; ++l)
    for (const std::string& n : block_linear_names(l)) {
      const TensorInfo& t = c.tensor(n);
      std::vector<float> w(static_cast<size_t>(t.n_elements()));
      decode_to_f32(w.data(), t.data, t.dtype, t.n_elements());
      for (size_t k = 0; k < w.size(); k += 4)
        ASSERT_GE((w[k] == 0.0f) + (w[k + 1] == 0.0f) + (w[k + 2] == 0.0f) + (w[k + 3] == 0.0f), 2) << n << " " << k;
    }
  // The float folder records its steps in config.json, and loads them back.
  const nlohmann::json hf_recipe = nlohmann::json::parse(c.recipe);
  ASSERT_EQ(hf_recipe.size(), 2u) << c.recipe;
  EXPECT_EQ(hf_recipe[0]["drop_blocks"], 1);
  EXPECT_EQ(hf_recipe[1]["pattern"], "2:4");
  EXPECT_EQ(nlohmann::json::parse(slurp(d + "/hf/config.json")).at("lmpack_recipe"), hf_recipe);
  EXPECT_EQ(testing::names_in(d), (std::vector<std::string>{"g.json", "gq", "h.json", "hf"})) << "a temporary was left";
  EXPECT_EQ(testing::names_in(d + "/gq"),
            (std::vector<std::string>{"config.json", "generation_config.json", "model.safetensors",
                                      "quantize_config.json", "special_tokens_map.json", "tokenizer.json",
                                      "tokenizer_config.json"}));
}

// `quantize` and `prune` are one-step spellings of the same job: their
// outputs record their step as a recipe of one would, and quantizing a pruned
// file appends to the steps it carries.
TEST(CompressCli, QuantizeAndPruneRecordTheirStep) {
  LMPACK_REQUIRE_SHARED();
  const std::string d = scratch_dir("compress", "one-step", true);
  auto args = with_calibration({"prune", testing::ts_llama_bin(), d + "/p.gguf", "--method", "wanda", "--sparsity",
                                "0.5", "--tokenizer", testing::tok512()});
  auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  args = {"quantize", d + "/p.gguf", d + "/q.gguf", "Q4_0", "--name", "pq"};
  r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  const nlohmann::json p = recipe_of(d + "/p.gguf"), q = recipe_of(d + "/q.gguf");
  ASSERT_EQ(p.size(), 1u) << p.dump();
  EXPECT_EQ(p[0]["step"], "prune");
  EXPECT_EQ(p[0]["method"], "wanda");
  EXPECT_EQ(p[0]["sparsity"], 0.5);
  EXPECT_EQ(p[0]["type"], "f32");
  ASSERT_EQ(q.size(), 2u) << q.dump();
  EXPECT_EQ(q[0], p[0]);
  EXPECT_EQ(q[1]["step"], "quantize");
  EXPECT_EQ(q[1]["method"], "rtn");
  EXPECT_EQ(q[1]["type"], "Q4_0");
  // The same step as a recipe file gives the same bytes.
  const std::string one = write_file(d + "/q.json", R"({"steps": [{"quantize": {"type": "Q4_0"}}]})");
  args = {"compress", d + "/p.gguf", d + "/c.gguf", "--recipe", one, "--name", "pq"};
  r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  EXPECT_TRUE(slurp(d + "/q.gguf") == slurp(d + "/c.gguf")) << "quantize and its one-step recipe differ";
  // A converted file is the same model made the same way: the steps stay, in a GGUF and in a folder.
  args = {"convert", d + "/q.gguf", d + "/f16.gguf", "--type", "f16"};
  r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  EXPECT_EQ(recipe_of(d + "/f16.gguf"), q);
  args = {"convert", d + "/q.gguf", d + "/hf"};
  r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  EXPECT_EQ(nlohmann::json::parse(slurp(d + "/hf/config.json")).at("lmpack_recipe"), q);
}

TEST(CompressCli, MistakesAreOneLineAndLeaveNothing) {
  LMPACK_REQUIRE_SHARED();
  const std::string d = scratch_dir("compress", "errors", true);
  const std::string out = d + "/o.gguf";
  const std::string unknown = write_file(d + "/unknown.json", R"({"steps": [{"prune": {"sparsity": 0.5, "sparsty": 1}}]})");
  const std::string needs_calib = write_file(d + "/calib.json", R"({"steps": [{"prune": {"method": "wanda", "sparsity": 0.5}}]})");
  const std::string bad_width = write_file(d + "/width.json", R"({"steps": [{"structured": {"ffn_width": 100000}}]})");
  const struct {
    std::vector<std::string> args;
    std::string expect;  // in the one line on stderr
  } cases[] = {
      {{"--recipe", unknown}, unknown + ": steps[0].prune.sparsty: unknown key"},
      {{"--recipe", needs_calib}, "--calib: calibrated methods need calibration text"},
      {{"--recipe", d + "/absent.json"}, "absent.json: no such file or directory"},
      {with_calibration({"--recipe", bad_width}), "ffn"},
      {{"--recipe", needs_calib, "--calib", testing::calibration_stories_file(), "--calib-samples", "0"},
       "--calib-samples"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"compress", testing::ts_llama_bin(), out, "--tokenizer", testing::tok512()};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 1) << describe(args, r);
    EXPECT_EQ(r.err_lines(), 1) << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out));
  }
  EXPECT_EQ(testing::names_in(d), (std::vector<std::string>{"calib.json", "unknown.json", "width.json"}));
}

}  // namespace
}  // namespace lmpack
