// check_output_path: every reason an output cannot or must not be written is
// found before any work, with a message naming the output.
#include "core/output_path.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

std::string fresh_dir(const std::string& name) {
  const std::string d = testing::temp_dir() + "/output-path-" + name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// The message of the Error check_output_path throws ("" when none).
std::string refusal(const std::string& out, OutputKind kind, const std::vector<std::string>& inputs,
                    const std::vector<std::string>& replaceable = {}) {
  try {
    check_output_path(out, kind, inputs, replaceable);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(OutputPath, NewFileInAWritableFolderIsFine) {
  const std::string dir = fresh_dir("fine");
  EXPECT_EQ(refusal(dir + "/out.gguf", OutputKind::kFile, {dir + "/missing-input"}), "");
  EXPECT_EQ(refusal(dir + "/out", OutputKind::kFolder, {}), "");
  EXPECT_TRUE(fs::is_empty(dir)) << "the writability probe is removed";
}

TEST(OutputPath, MissingFolder) {
  const std::string dir = fresh_dir("missing");
  EXPECT_EQ(refusal(dir + "/no/out.gguf", OutputKind::kFile, {}),
            dir + "/no/out.gguf: folder " + dir + "/no does not exist");
  EXPECT_EQ(refusal(dir + "/no/out", OutputKind::kFolder, {}), dir + "/no/out: folder " + dir + "/no does not exist");
}

TEST(OutputPath, ParentIsAFile) {
  const std::string dir = fresh_dir("parent-file");
  std::ofstream(dir + "/f") << "x";
  EXPECT_EQ(refusal(dir + "/f/out.gguf", OutputKind::kFile, {}), dir + "/f/out.gguf: " + dir + "/f is not a folder");
}

TEST(OutputPath, KindMismatch) {
  const std::string dir = fresh_dir("kind");
  fs::create_directories(dir + "/d");
  std::ofstream(dir + "/f") << "x";
  EXPECT_EQ(refusal(dir + "/d", OutputKind::kFile, {}), dir + "/d: is a folder; the output is a file");
  EXPECT_EQ(refusal(dir + "/f", OutputKind::kFolder, {}),
            dir + "/f: exists and is not a folder; the output is a folder");
}

TEST(OutputPath, OutputThatIsAnInputIsRefused) {
  const std::string dir = fresh_dir("same");
  const std::string input = dir + "/model.gguf";
  std::ofstream(input) << "weights";
  fs::create_hard_link(input, dir + "/hardlink.gguf");
  fs::create_symlink(input, dir + "/symlink.gguf");
  fs::create_directories(dir + "/hf");
  std::ofstream(dir + "/hf/model.safetensors") << "weights";
  const std::string sub = dir + "/sub";
  fs::create_directories(sub);
  for (const std::string& out : {input, dir + "/hardlink.gguf", dir + "/symlink.gguf", dir + "/./model.gguf"})
    EXPECT_EQ(refusal(out, OutputKind::kFile, {"", input}),
              out + ": is the input " + input + "; write the output to another path");
  EXPECT_EQ(refusal(dir + "/hf/", OutputKind::kFolder, {dir + "/hf"}),
            dir + "/hf/: is the input " + dir + "/hf; write the output to another path");
  EXPECT_EQ(refusal(dir, OutputKind::kFolder, {dir + "/hf"}),
            dir + ": contains the input " + dir + "/hf; replacing the folder would delete it");
  EXPECT_EQ(refusal(dir + "/hf", OutputKind::kFolder, {dir + "/hf/model.safetensors"}),
            dir + "/hf: contains the input " + dir + "/hf/model.safetensors; replacing the folder would delete it");
  EXPECT_NE(refusal(sub + "/../hf", OutputKind::kFolder, {dir + "/hf/model.safetensors"}).find("contains the input"),
            std::string::npos);
  EXPECT_EQ(refusal(dir + "/other.gguf", OutputKind::kFile, {input}), "") << "a new file beside the input is fine";
  EXPECT_EQ(refusal(dir + "/hf/out.gguf", OutputKind::kFile, {dir + "/hf"}), "") << "a new file inside an input folder";
}

TEST(OutputPath, ReadOnlyOutputFileIsLeftAlone) {
  if (::geteuid() == 0) GTEST_SKIP() << "running as root: file permission bits do not bind root";
  const std::string dir = fresh_dir("ro-file");
  std::ofstream(dir + "/out.gguf") << "protected";
  fs::permissions(dir + "/out.gguf", fs::perms::owner_read);
  EXPECT_EQ(refusal(dir + "/out.gguf", OutputKind::kFile, {}),
            dir + "/out.gguf: exists and is read-only; remove it or write to another path");
}

TEST(OutputPath, ReadOnlyFolderIsFoundBeforeAnyWork) {
  if (::geteuid() == 0)
    GTEST_SKIP() << "running as root: permission bits do not bind root (the read-only mount case is in "
                    "tests/e2e/output_checks_cli_test.cpp)";
  const std::string dir = fresh_dir("ro-folder");
  fs::create_directories(dir + "/ro");
  fs::permissions(dir + "/ro", fs::perms::owner_read | fs::perms::owner_exec);
  EXPECT_EQ(refusal(dir + "/ro/out.gguf", OutputKind::kFile, {}),
            dir + "/ro/out.gguf: cannot write in folder " + dir + "/ro: Permission denied");
  fs::permissions(dir + "/ro", fs::perms::owner_all);
}

TEST(OutputPath, ExistingFolderMayHoldOnlyReplaceableFiles) {
  const std::string dir = fresh_dir("replaceable");
  fs::create_directories(dir + "/out");
  std::ofstream(dir + "/out/config.json") << "{}";
  std::ofstream(dir + "/out/config.json.tmp.123") << "left by an older lmpack";
  EXPECT_EQ(refusal(dir + "/out", OutputKind::kFolder, {}, {"config.json"}), "");
  std::ofstream(dir + "/out/README.md") << "mine";
  EXPECT_EQ(refusal(dir + "/out", OutputKind::kFolder, {}, {"config.json"}),
            dir +
                "/out: folder holds entries lmpack does not write (README.md); the output replaces the whole "
                "folder: choose a new or empty one");
}

}  // namespace
}  // namespace lmpack
