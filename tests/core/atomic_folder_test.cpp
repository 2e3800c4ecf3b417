// AtomicFolder: a folder output appears whole at commit or not at all, an
// existing folder is swapped out in one step (its files never mixed with the
// new ones), a folder holding foreign files or an input is refused, and a
// failed run leaves the old folder as it was and no temporary.
#include "core/atomic_folder.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kFiles = {"config.json", "model.safetensors"};

std::string fresh_dir(const std::string& name) {
  const std::string d = testing::temp_dir() + "/atomic-folder-" + name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_into(AtomicFolder& folder, const std::string& name, const std::string& text) {
  AtomicFile f(folder.file(name));
  f.write(text);
  f.commit();
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(AtomicFolder, NewFolderAppearsOnlyAtCommit) {
  const std::string dir = fresh_dir("new");
  const std::string out = dir + "/model";
  {
    AtomicFolder folder(out, kFiles);
    write_into(folder, "config.json", "{}");
    write_into(folder, "model.safetensors", "tensors");
    EXPECT_FALSE(fs::exists(out));
    folder.commit();
  }
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"model"});
  EXPECT_EQ(names_in(out), kFiles);
  EXPECT_EQ(slurp(out + "/model.safetensors"), "tensors");
}

TEST(AtomicFolder, ExistingFolderIsSwappedWholeAndTheOldOneRemoved) {
  const std::string dir = fresh_dir("swap");
  const std::string out = dir + "/model";
  fs::create_directories(out);
  std::ofstream(out + "/config.json") << "old config";
  std::ofstream(out + "/model.safetensors") << "old tensors";
  {
    AtomicFolder folder(out, kFiles);
    write_into(folder, "model.safetensors", "new tensors");
    EXPECT_EQ(slurp(out + "/config.json"), "old config") << "nothing changes before commit";
    folder.commit();
  }
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"model"}) << "the old folder is gone";
  EXPECT_EQ(names_in(out), std::vector<std::string>{"model.safetensors"}) << "no old file survives beside the new";
  EXPECT_EQ(slurp(out + "/model.safetensors"), "new tensors");
}

TEST(AtomicFolder, FailureBeforeCommitLeavesTheOldFolderAndNoTemporary) {
  const std::string dir = fresh_dir("fail");
  const std::string out = dir + "/model";
  fs::create_directories(out);
  std::ofstream(out + "/model.safetensors") << "old tensors";
  try {
    AtomicFolder folder(out, kFiles);
    write_into(folder, "config.json", "new");
    throw Error("disk", "full");
  } catch (const Error&) {
  }
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"model"});
  EXPECT_EQ(names_in(out), std::vector<std::string>{"model.safetensors"});
  EXPECT_EQ(slurp(out + "/model.safetensors"), "old tensors");
}

TEST(AtomicFolder, FolderWithForeignFilesIsRefusedBeforeAnyWork) {
  const std::string dir = fresh_dir("foreign");
  const std::string out = dir + "/model";
  fs::create_directories(out + "/sub");
  std::ofstream(out + "/notes.txt") << "mine";
  try {
    AtomicFolder folder(out, kFiles);
    FAIL() << "accepted a folder with foreign files";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(out + ": folder holds entries lmpack does not write (notes.txt, sub)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(names_in(out), (std::vector<std::string>{"notes.txt", "sub"}));
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"model"});
}

TEST(AtomicFolder, FilesAddedMeanwhileStopTheSwap) {
  const std::string dir = fresh_dir("meanwhile");
  const std::string out = dir + "/model";
  fs::create_directories(out);
  AtomicFolder folder(out, kFiles);
  write_into(folder, "config.json", "new");
  std::ofstream(out + "/tokenizer.json") << "added by the user during the run";
  EXPECT_THROW(folder.commit(), Error);
  EXPECT_TRUE(fs::exists(out + "/tokenizer.json"));
}

TEST(AtomicFolder, OutputHoldingAnInputIsRefused) {
  const std::string dir = fresh_dir("input");
  const std::string out = dir + "/model";
  fs::create_directories(out);
  std::ofstream(out + "/model.safetensors") << "the input";
  EXPECT_THROW(AtomicFolder(out, kFiles, {out + "/model.safetensors"}), Error);
  EXPECT_THROW(AtomicFolder(out, kFiles, {out}), Error);
  EXPECT_THROW(AtomicFolder(dir, kFiles, {out}), Error);
  EXPECT_EQ(slurp(out + "/model.safetensors"), "the input");
}

}  // namespace
}  // namespace lmpack
