// Outputs are checked before any work (issue 9): an output that is an input
// (same path, a hard link, a symlink, a folder holding the input) is refused
// for every command that writes, and a missing or read-only output folder is
// a one-line error before the model is even read. Inputs stay byte for byte
// and no temporary is left.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_runner.h"
#include "fault_helpers.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::describe;
using testing::run_cli;
using testing::scratch_dir;
using testing::shared_path;

// Copies of the fixtures in a scratch folder: the tests never point an
// output at ../shared (root could write there).
struct Inputs {
  std::string dir, gguf, hf, text, base;
};

Inputs make_inputs(const std::string& name) {
  Inputs in;
  in.dir = scratch_dir("outputs", name, true);
  in.gguf = in.dir + "/stories260K.gguf";
  in.hf = in.dir + "/hf";
  in.text = in.dir + "/text.txt";
  fs::copy_file(testing::stories260k_gguf(), in.gguf);
  fs::copy(shared_path("models/stories260K-hf"), in.hf);
  for (const auto& e : fs::recursive_directory_iterator(in.dir))
    fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
  std::ofstream(in.text) << "Once upon a time, there was a little girl named Lily. She loved to play outside.\n";
  return in;
}

void expect_refused(const std::vector<std::string>& args, const std::string& message_start) {
  const CliResult r = run_cli(args);
  EXPECT_EQ(r.exit_code, 1) << describe(args, r);
  EXPECT_EQ(r.err_lines(), 1) << describe(args, r);
  EXPECT_EQ(r.err.rfind("lmpack: " + message_start, 0), 0u) << "expected 'lmpack: " << message_start << "...'\n"
                                                            << describe(args, r);
  EXPECT_TRUE(r.out.empty()) << describe(args, r);
}

TEST(OutputChecks, OutputThatIsAnInputIsRefusedByEveryWriter) {
  LMPACK_REQUIRE_SHARED();
  const Inputs in = make_inputs("same");
  fs::create_hard_link(in.gguf, in.dir + "/hardlink.gguf");
  fs::create_symlink(in.gguf, in.dir + "/symlink.gguf");
  {  // a saved logits file to compare against, an importance matrix
    CliResult r =
        run_cli({"eval", in.gguf, "--text", in.text, "--ctx", "16", "--save-logits", in.dir + "/base.logits"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = run_cli({"imatrix", in.gguf, "--calib", in.text, "--calib-ctx", "8", "-o", in.dir + "/im.gguf"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const auto before = testing::snapshot(in.dir);
  const std::string is_input = ": is the input ";
  // The reproducer first: it used to delete the input's model.safetensors on a full disk.
  expect_refused({"convert", in.hf, in.hf, "--type", "f16"}, in.hf + is_input);
  expect_refused({"convert", in.hf, in.hf + "/", "--type", "f16"}, in.hf + "/" + is_input);
  expect_refused({"convert", in.hf, in.dir}, in.dir + ": contains the input " + in.hf);
  expect_refused({"convert", in.gguf, in.gguf}, in.gguf + is_input);
  expect_refused({"convert", in.gguf, in.dir + "/hardlink.gguf"}, in.dir + "/hardlink.gguf" + is_input);
  expect_refused({"convert", in.dir + "/symlink.gguf", in.gguf}, in.gguf + is_input);
  expect_refused({"quantize", in.gguf, in.gguf, "Q8_0"}, in.gguf + is_input);
  expect_refused({"quantize", in.gguf, in.dir + "/im.gguf", "Q4_0", "--imatrix", in.dir + "/im.gguf"},
                 in.dir + "/im.gguf" + is_input);
  expect_refused({"quantize", in.hf, in.hf, "--format", "gptq", "--bits", "8", "--group-size", "-1"}, in.hf + is_input);
  expect_refused({"quantize", in.gguf, in.text, "Q4_0", "--method", "gptq", "--calib", in.text}, in.text + is_input);
  expect_refused({"prune", in.gguf, in.gguf, "--sparsity", "0.5"}, in.gguf + is_input);
  expect_refused({"prune", in.hf, in.hf, "--sparsity", "0.5"}, in.hf + is_input);
  expect_refused({"prune", in.gguf, in.dir, "--drop-blocks", "1", "--calib", in.text},
                 in.dir + ": contains the input ");
  expect_refused({"imatrix", in.gguf, "--calib", in.text, "-o", in.text}, in.text + is_input);
  expect_refused({"eval", in.gguf, "--text", in.text, "--save-logits", in.text}, in.text + is_input);
  expect_refused(
      {"eval", in.gguf, "--text", in.text, "--base", in.dir + "/base.logits", "--save-logits", in.dir + "/base.logits"},
      in.dir + "/base.logits" + is_input);
  EXPECT_EQ(testing::snapshot(in.dir), before) << "an input changed";
  EXPECT_EQ(testing::temporaries_in(in.dir), std::vector<std::string>{});
}

TEST(OutputChecks, FolderHoldingOtherFilesIsNotReplaced) {
  LMPACK_REQUIRE_SHARED();
  const Inputs in = make_inputs("foreign");
  const std::string out = in.dir + "/models";
  fs::create_directories(out);
  std::ofstream(out + "/README.md") << "my notes";
  expect_refused({"random-model", out, "--dim", "64", "--ffn", "128", "--layers", "1", "--heads", "4", "--vocab", "64"},
                 out + ": folder holds entries lmpack does not write (README.md)");
  expect_refused({"convert", in.gguf, out}, out + ": folder holds entries lmpack does not write (README.md)");
  EXPECT_EQ(testing::names_in(out), std::vector<std::string>{"README.md"});
}

TEST(OutputChecks, ExistingModelFolderIsReplacedWhole) {
  LMPACK_REQUIRE_SHARED();
  const Inputs in = make_inputs("replace");
  const std::string out = in.dir + "/out";
  ASSERT_EQ(run_cli({"quantize", in.hf, out, "--format", "gptq", "--bits", "8", "--group-size", "-1"}).exit_code, 0);
  EXPECT_EQ(testing::names_in(out),
            (std::vector<std::string>{"config.json", "model.safetensors", "quantize_config.json"}));
  const CliResult r = run_cli({"convert", in.gguf, out, "--type", "f16"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(testing::names_in(out),
            (std::vector<std::string>{"config.json", "generation_config.json", "model.safetensors",
                                      "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"}))
      << "no quantize_config.json of the old folder may survive beside the new model (the GGUF's vocabulary "
         "comes as tokenizer files)";
  EXPECT_EQ(testing::temporaries_in(in.dir), std::vector<std::string>{});
  EXPECT_EQ(run_cli({"info", out}).exit_code, 0);
}

// The model is truncated: were it read first, the error would name it.
TEST(OutputChecks, MissingOutputFolderIsFoundBeforeTheModelIsRead) {
  LMPACK_REQUIRE_SHARED();
  const Inputs in = make_inputs("missing");
  const std::string broken = in.dir + "/broken.gguf";
  fs::copy_file(in.gguf, broken);
  fs::resize_file(broken, 1000);
  const std::string no = in.dir + "/no/such";
  const std::string missing = ": folder " + in.dir + "/no does not exist";
  expect_refused({"quantize", broken, no + "/out.gguf", "Q4_K_M", "--method", "gptq", "--calib", in.text},
                 no + "/out.gguf: folder " + no + " does not exist");
  expect_refused({"quantize", broken, in.dir + "/no/out", "--format", "gptq", "--method", "gptq", "--calib", in.text},
                 in.dir + "/no/out" + missing);
  expect_refused(
      {"prune", broken, in.dir + "/no/out.gguf", "--method", "sparsegpt", "--sparsity", "0.5", "--calib", in.text},
      in.dir + "/no/out.gguf" + missing);
  expect_refused({"convert", broken, in.dir + "/no/out"}, in.dir + "/no/out" + missing);
  expect_refused({"imatrix", broken, "--calib", in.text, "-o", in.dir + "/no/x.imatrix"},
                 in.dir + "/no/x.imatrix" + missing);
  expect_refused({"eval", broken, "--text", in.text, "--save-logits", in.dir + "/no/x.logits"},
                 in.dir + "/no/x.logits" + missing);
  expect_refused({"random-model", in.dir + "/no/m", "--dim", "64", "--ffn", "128", "--layers", "1", "--heads", "4"},
                 in.dir + "/no/m" + missing);
  expect_refused({"convert", in.gguf, in.gguf + "/out.gguf"}, in.gguf + "/out.gguf: " + in.gguf + " is not a folder");
}

// A real read-only mount (a private tmpfs mounted ro): the truth for root too.
TEST(OutputChecks, ReadOnlyOutputFolderIsFoundBeforeAnyWork) {
  LMPACK_REQUIRE_SHARED();
  const Inputs in = make_inputs("readonly");
  const std::string logs = in.dir + "/logs";
  if (const std::string why = testing::mount_namespace_unavailable(logs); !why.empty()) GTEST_SKIP() << why;
  const std::string ro = in.dir + "/ro";
  fs::create_directories(ro);
  const std::string script =
      "mount -t tmpfs -o ro,size=64k tmpfs \"$RO\" || exit 200\n"
      "\"$LMPACK\" quantize \"$TS\" \"$RO/out.gguf\" Q4_K_M --tokenizer \"$TOK\" --method gptq --calib \"$TEXT\" "
      "2>\"$LOGS/gguf.err\"; echo gguf=$?\n"
      "\"$LMPACK\" quantize \"$TS\" \"$RO/out\" --format gptq --tokenizer \"$TOK\" --method gptq --calib \"$TEXT\" "
      "2>\"$LOGS/folder.err\"; echo folder=$?\n"
      "ls -A \"$RO\" | wc -l | sed 's/^/entries=/'\n";
  const testing::ChildResult r =
      testing::run_in_mount_namespace(script, logs,
                                      {"LMPACK=" + testing::lmpack_binary(), "RO=" + ro, "TS=" + testing::ts_llama_bin(),
                                       "TOK=" + testing::tok512(), "TEXT=" + in.text, "LOGS=" + logs});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto kv = testing::key_values(r.out);
  EXPECT_EQ(kv.at("gguf"), "1");
  EXPECT_EQ(kv.at("folder"), "1");
  EXPECT_EQ(kv.at("entries"), "0");
  EXPECT_EQ(testing::slurp(logs + "/gguf.err"),
            "lmpack: " + ro + "/out.gguf: cannot write in folder " + ro + ": Read-only file system\n");
  EXPECT_EQ(testing::slurp(logs + "/folder.err"),
            "lmpack: " + ro + "/out: cannot write in folder " + ro + ": Read-only file system\n");
}

}  // namespace
}  // namespace lmpack
