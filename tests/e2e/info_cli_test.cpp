// End-to-end: `lmpack info`, `tokenize`, `convert` and `random-model` on the
// real fixtures in ../shared.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>

#include "cli_runner.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;
using testing::describe;
using testing::run_cli;
using testing::shared_path;
using testing::stories260k_bin;
using testing::stories260k_gguf;
using testing::tinystories_valid;
using testing::tok512;

nlohmann::json run_json(const std::vector<std::string>& args) {
  auto r = run_cli(args);
  EXPECT_EQ(r.exit_code, 0) << describe(args, r);
  if (r.exit_code != 0) return nlohmann::json::object();
  try {
    return nlohmann::json::parse(r.out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "stdout is not JSON: " << e.what() << "\n" << describe(args, r);
    return nlohmann::json::object();
  }
}

void expect_stories260k_config(const nlohmann::json& j, int64_t context) {
  const auto& c = j["config"];
  EXPECT_EQ(c.value("dim", 0), 64);
  EXPECT_EQ(c.value("hidden_dim", 0), 172);
  EXPECT_EQ(c.value("n_layers", 0), 5);
  EXPECT_EQ(c.value("n_heads", 0), 8);
  EXPECT_EQ(c.value("n_kv_heads", 0), 4);
  EXPECT_EQ(c.value("head_dim", 0), 8);
  EXPECT_EQ(c.value("vocab_size", 0), 512);
  EXPECT_EQ(c.value("context_length", 0), context);
  EXPECT_NEAR(c.value("rms_eps", 0.0), 1e-5, 1e-9);
  EXPECT_NEAR(c.value("rope_theta", 0.0), 10000.0, 1e-3);
  EXPECT_TRUE(c.contains("rope_scaling"));
  EXPECT_EQ(j.value("architecture", ""), "llama");
}

TEST(InfoCli, Stories260KBinJson) {
  LMPACK_REQUIRE_SHARED();
  auto j = run_json({"info", stories260k_bin(), "--json", "--tokenizer", tok512()});
  EXPECT_EQ(j.value("format", ""), "llama2c");
  expect_stories260k_config(j, 512);
  EXPECT_EQ(j.value("parameters", 0), 260032);
  EXPECT_EQ(j.value("bytes", 0), 260032 * 4);
  EXPECT_TRUE(j["config"].value("tied_embeddings", false));
  ASSERT_TRUE(j["vocab"].is_object()) << j.dump();
  EXPECT_EQ(j["vocab"].value("size", 0), 512);
  EXPECT_EQ(j["vocab"].value("bos", -1), 1);
  EXPECT_EQ(j["vocab"].value("eos", -1), 2);
  ASSERT_TRUE(j["tensors"].is_array());
  EXPECT_EQ(j["tensors"].size(), 2u + 5u * 9u);  // token_embd, output_norm, 9 per block; tied
  bool found = false;
  for (const auto& t : j["tensors"])
    if (t["name"] == "blk.0.ffn_gate.weight") {
      found = true;
      EXPECT_EQ(t["dtype"], "f32");
      EXPECT_EQ(t["shape"], nlohmann::json::array({172, 64}));
      EXPECT_EQ(t["bytes"], 172 * 64 * 4);
    }
  EXPECT_TRUE(found) << j["tensors"].dump();
}

TEST(InfoCli, Stories260KGgufJsonHasTheUntiedCopy) {
  LMPACK_REQUIRE_SHARED();
  auto j = run_json({"info", stories260k_gguf(), "--json"});
  EXPECT_EQ(j.value("format", ""), "gguf");
  expect_stories260k_config(j, 2048);
  EXPECT_EQ(j.value("parameters", 0), 292800);
  EXPECT_EQ(j["tensors"].size(), 48u);
  ASSERT_TRUE(j["vocab"].is_object()) << j.dump();
  EXPECT_EQ(j["vocab"].value("model", ""), "llama");
  EXPECT_EQ(j["vocab"].value("size", 0), 512);
}

TEST(InfoCli, Stories260KHfJsonAndHumanOutput) {
  LMPACK_REQUIRE_SHARED();
  auto j = run_json({"info", shared_path("models/stories260K-hf"), "--json"});
  EXPECT_EQ(j.value("format", ""), "hf");
  expect_stories260k_config(j, 512);
  EXPECT_EQ(j.value("parameters", 0), 260032);
  EXPECT_TRUE(j["vocab"].is_null()) << j["vocab"].dump();

  std::vector<std::string> args = {"info", shared_path("models/stories260K-hf")};
  auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  EXPECT_NE(r.out.find("260032"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("blk.4.ffn_down.weight"), std::string::npos) << r.out;
}

TEST(TokenizeCli, VocabOnlyGgufMatchesLlamaCppVectors) {
  LMPACK_REQUIRE_SHARED();
  const std::string base = shared_path("data/llamacpp-vocab-tests/ggml-vocab-llama-spm.gguf");
  const std::string inp = testing::slurp(base + ".inp");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> strings;
  for (size_t start = 0;;) {
    size_t at = inp.find(sep, start);
    if (at == std::string::npos) break;
    strings.push_back(inp.substr(start, at - start));
    start = at + sep.size();
  }
  std::istringstream out(testing::slurp(base + ".out"));
  std::vector<std::string> expected;
  for (std::string line; std::getline(out, line);) {
    size_t b = line.find_first_not_of(' ');
    expected.push_back(b == std::string::npos ? "" : line.substr(b));
  }
  ASSERT_EQ(strings.size(), 46u);
  ASSERT_GE(expected.size(), strings.size());
  // The first vector is the one the brief names; the rest come along cheaply.
  int mismatches = 0;
  for (size_t i = 0; i < strings.size(); ++i) {
    std::vector<std::string> args = {"tokenize", base, "--text", strings[i], "--no-bos"};
    auto r = run_cli(args);
    ASSERT_EQ(r.exit_code, 0) << describe(args, r);
    std::string got = r.out;
    while (!got.empty() && got.back() == '\n') got.pop_back();
    if (i == 0) {
      ASSERT_EQ(got, expected[0]) << describe(args, r);
    }
    if (got != expected[i]) {
      ++mismatches;
      ADD_FAILURE() << "string " << i << " '" << strings[i] << "': got '" << got << "', expected '" << expected[i]
                    << "'";
    }
  }
  EXPECT_EQ(mismatches, 0);

  // With BOS (the default) the same ids follow id 1.
  std::vector<std::string> args = {"tokenize", base, "--text", strings[0]};
  auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  EXPECT_EQ(r.out, "1 " + expected[0] + "\n");
}

TEST(TokenizeCli, LlamaCheckpointWithTokenizer) {
  LMPACK_REQUIRE_SHARED();
  std::vector<std::string> a = {"tokenize", stories260k_bin(), "--tokenizer", tok512(), "--text", "Once upon a time"};
  std::vector<std::string> b = {"tokenize", stories260k_gguf(), "--text", "Once upon a time"};
  auto ra = run_cli(a), rb = run_cli(b);
  ASSERT_EQ(ra.exit_code, 0) << describe(a, ra);
  ASSERT_EQ(rb.exit_code, 0) << describe(b, rb);
  EXPECT_EQ(ra.out, rb.out);  // DATA.md: token ids match exactly
  EXPECT_EQ(ra.out.rfind("1 ", 0), 0u) << ra.out;
}

TEST(ConvertCli, GgufToHfKeepsThePerplexity) {
  LMPACK_REQUIRE_SHARED();
  const std::string out = testing::temp_dir() + "/converted-hf";
  fs::remove_all(out);
  std::vector<std::string> args = {"convert", stories260k_gguf(), out};
  auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  ASSERT_TRUE(fs::exists(out + "/config.json"));
  ASSERT_TRUE(fs::exists(out + "/model.safetensors"));
  auto info = run_json({"info", out, "--json"});
  EXPECT_EQ(info.value("format", ""), "hf");
  auto j = run_json({"eval", out, "--tokenizer", tok512(), "--ctx", "512", "--text", tinystories_valid(),
                     "--doc-separator", "<|endoftext|>", "--max-docs", "20", "--json", "-t", "2"});
  EXPECT_NEAR(j.value("perplexity", 0.0), 3.492, 0.002);
  EXPECT_EQ(j.value("tokens", 0), 6496);
}

TEST(RandomModelCli, WritesALoadableModel) {
  const std::string out = testing::temp_dir() + "/random-small";
  fs::remove_all(out);
  std::vector<std::string> args = {"random-model", out, "--dim", "64", "--ffn", "96", "--layers", "2",
                                   "--heads", "4", "--kv-heads", "2", "--vocab", "300", "--ctx", "128",
                                   "--dtype", "bf16", "--seed", "7"};
  auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  auto j = run_json({"info", out, "--json"});
  EXPECT_EQ(j["config"].value("dim", 0), 64);
  EXPECT_EQ(j["config"].value("hidden_dim", 0), 96);
  EXPECT_EQ(j["config"].value("n_layers", 0), 2);
  EXPECT_EQ(j["config"].value("n_kv_heads", 0), 2);
  EXPECT_EQ(j["config"].value("vocab_size", 0), 300);
  EXPECT_EQ(j["config"].value("context_length", 0), 128);
  EXPECT_FALSE(j["config"].value("tied_embeddings", true));
  // embed + output + norm + 2 * (4 * 64*64/... ) computed from the shapes:
  const int64_t per_layer = 64 * 64 + 2 * (32 * 64) + 64 * 64 + 3 * 64 * 96 + 2 * 64;
  EXPECT_EQ(j.value("parameters", 0), 2 * 300 * 64 + 64 + 2 * per_layer);
  for (const auto& t : j["tensors"]) {
    if (t["shape"].size() == 2) {
      EXPECT_EQ(t["dtype"], "bf16") << t.dump();
    }
  }
}

}  // namespace
}  // namespace lmpack
