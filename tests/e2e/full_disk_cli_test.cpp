// A full disk never loses data (issue 9): the write fails with one line
// naming the output, the old output (file or folder) stays byte for byte,
// the input is never touched, and no temporary remains.
// Two ways to fill a disk: RLIMIT_FSIZE (writes fail with EFBIG; lmpack
// itself must ignore SIGXFSZ, which would otherwise kill it), without root;
// and a real small tmpfs in a private mount namespace (ENOSPC), skipped with
// the reason where it cannot be mounted.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_runner.h"
#include "fault_helpers.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;
using testing::ChildOptions;
using testing::ChildResult;
using testing::scratch_dir;
using testing::shared_path;

ChildResult run_limited(const std::vector<std::string>& args, const std::string& logs, long limit) {
  ChildOptions o;
  o.file_size_limit = limit;
  testing::ChildProcess child = testing::start_cli(args, logs, o);
  return child.wait(120);
}

void expect_write_failure(const ChildResult& r, const std::string& out, const std::string& reason) {
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("lmpack: " + out, 0), 0u) << r.err;
  EXPECT_NE(r.err.find(reason), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(FullDisk, FileSizeLimitKeepsTheOldFileAndFolder) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = scratch_dir("fulldisk", "fsize", true);
  const std::string logs = dir + "/../fulldisk-fsize-logs";
  const std::string gguf = dir + "/out.gguf", folder = dir + "/out", logits = dir + "/out.logits";
  std::ofstream(gguf) << "old file";
  ASSERT_EQ(testing::run_cli({"convert", testing::stories260k_gguf(), folder, "--type", "f16"}).exit_code, 0);
  std::ofstream(logits) << "old logits";
  const auto before = testing::snapshot(dir);
  const long limit = 700 * 1024;  // the f16 folder (about 520 KiB) fits, nothing at f32 does
  expect_write_failure(run_limited({"convert", testing::stories260k_gguf(), gguf, "--type", "f32"}, logs, limit), gguf,
                       "write failed: File too large");
  expect_write_failure(run_limited({"convert", shared_path("models/stories260K-hf"), folder}, logs, limit), folder,
                       "write failed: File too large");
  expect_write_failure(run_limited({"random-model", dir + "/random", "--dim", "256", "--ffn", "512", "--layers", "2",
                                    "--heads", "4", "--vocab", "512"},
                                   logs, limit),
                       dir + "/random", "write failed: File too large");
  expect_write_failure(run_limited({"eval", testing::stories260k_gguf(), "--text", testing::tinystories_valid(),
                                    "--ctx", "256", "--chunks", "4", "--save-logits", logits},
                                   logs, limit),
                       logits, "write failed: File too large");
  EXPECT_EQ(testing::snapshot(dir), before);
  EXPECT_EQ(testing::names_in(dir), (std::vector<std::string>{"out", "out.gguf", "out.logits"}));
  EXPECT_EQ(testing::temporaries_in(folder), std::vector<std::string>{});
}

// The issue's reproducer on a real, nearly full file system: converting an
// HF folder onto itself is refused, into a new folder fails for lack of space;
// the input's model.safetensors stays. Then a file and a folder output that
// do not fit leave their old versions.
TEST(FullDisk, RealTmpfsNeverLosesTheInputOrTheOldOutput) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = scratch_dir("fulldisk", "tmpfs", true);
  const std::string logs = dir + "/logs";
  if (const std::string why = testing::mount_namespace_unavailable(logs); !why.empty()) GTEST_SKIP() << why;
  const std::string mnt = dir + "/mnt";
  fs::create_directories(mnt);
  const std::string script = R"(
mount -t tmpfs -o size=1200k tmpfs "$MNT" || exit 200
"$LMPACK" convert "$GGUF" "$MNT" 2>"$LOGS/mountpoint.err"; echo mountpoint=$?
cp -r "$HF" "$MNT/hf" && chmod -R u+w "$MNT/hf"
"$LMPACK" convert "$MNT/hf" "$MNT/hf" --type f16 2>"$LOGS/same.err"; echo same=$?
"$LMPACK" convert "$MNT/hf" "$MNT/hf16" --type f16 2>"$LOGS/full.err"; echo full=$?
cmp -s "$MNT/hf/model.safetensors" "$HF/model.safetensors"; echo input_intact=$?
echo after_hf=$(ls -A "$MNT" | tr '\n' ' ')
rm -rf "$MNT/hf"
"$LMPACK" random-model "$MNT/model" --dim 64 --ffn 128 --layers 1 --heads 4 --vocab 64 >/dev/null 2>&1; echo old_model=$?
echo "old file" > "$MNT/out.gguf"
head -c 700k /dev/zero > "$MNT/filler"
md5sum "$MNT/model/config.json" "$MNT/model/model.safetensors" "$MNT/out.gguf" > "$LOGS/before.md5"
"$LMPACK" convert "$GGUF" "$MNT/out.gguf" --type f32 2>"$LOGS/file.err"; echo file=$?
"$LMPACK" convert "$HF" "$MNT/model" 2>"$LOGS/folder.err"; echo folder=$?
md5sum -c --quiet "$LOGS/before.md5" >/dev/null 2>&1; echo old_intact=$?
echo after=$(ls -A "$MNT" | tr '\n' ' ')
echo model=$(ls -A "$MNT/model" | tr '\n' ' ')
)";
  const ChildResult r = testing::run_in_mount_namespace(
      script, logs,
      {"LMPACK=" + testing::lmpack_binary(), "MNT=" + mnt, "HF=" + shared_path("models/stories260K-hf"),
       "GGUF=" + testing::stories260k_gguf(), "LOGS=" + logs});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto kv = testing::key_values(r.out);
  EXPECT_EQ(kv.at("mountpoint"), "1");
  EXPECT_EQ(
      testing::slurp(logs + "/mountpoint.err"),
      "lmpack: " + mnt + ": is a mount point, which cannot be replaced as a whole: write to a new folder inside it\n");
  EXPECT_EQ(kv.at("same"), "1");
  EXPECT_EQ(testing::slurp(logs + "/same.err"),
            "lmpack: " + mnt + "/hf: is the input " + mnt + "/hf; write the output to another path\n");
  EXPECT_EQ(kv.at("full"), "1");
  EXPECT_EQ(testing::slurp(logs + "/full.err"),
            "lmpack: " + mnt + "/hf16/model.safetensors: write failed: No space left on device\n");
  EXPECT_EQ(kv.at("input_intact"), "0");
  EXPECT_EQ(kv.at("after_hf"), "hf");
  EXPECT_EQ(kv.at("old_model"), "0");
  EXPECT_EQ(kv.at("file"), "1");
  EXPECT_NE(testing::slurp(logs + "/file.err").find("out.gguf: write failed: No space left on device"),
            std::string::npos)
      << testing::slurp(logs + "/file.err");
  EXPECT_EQ(kv.at("folder"), "1");
  EXPECT_NE(testing::slurp(logs + "/folder.err").find("No space left on device"), std::string::npos)
      << testing::slurp(logs + "/folder.err");
  EXPECT_EQ(kv.at("old_intact"), "0");
  EXPECT_EQ(kv.at("after"), "filler model out.gguf");
  EXPECT_EQ(kv.at("model"), "config.json model.safetensors");
}

}  // namespace
}  // namespace lmpack
