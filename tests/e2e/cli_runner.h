// Runs the built lmpack binary (lmpack_binary()) as a child process and
// captures its stdout, stderr and exit status, for the end-to-end tests.
#pragma once

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_paths.h"

extern char** environ;

namespace lmpack::testing {

struct CliResult {
  int exit_code = -1;  // 128 + signal when killed
  std::string out;
  std::string err;

  // Lines of stderr (a trailing newline does not start another line).
  int err_lines() const {
    int n = 0;
    for (char c : err) n += c == '\n';
    if (!err.empty() && err.back() != '\n') ++n;
    return n;
  }
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs any executable (argv[0] is its path) and captures stdout and stderr.
inline CliResult run_program(std::vector<std::string> argv_s) {
  static std::atomic<int> counter{0};
  const std::string base = temp_dir() + "/cli-" + std::to_string(counter++);
  const std::string out_path = base + ".out", err_path = base + ".err";
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  CliResult r;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    r.err = "posix_spawn failed for " + argv_s[0];
    return r;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  std::filesystem::remove(out_path);
  std::filesystem::remove(err_path);
  return r;
}

// Runs the built lmpack binary with these arguments.
inline CliResult run_cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv_s{lmpack_binary()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  return run_program(std::move(argv_s));
}

// "cmd args..." for failure messages.
inline std::string describe(const std::vector<std::string>& args, const CliResult& r) {
  std::string s = "lmpack";
  for (const auto& a : args) s += " '" + a + "'";
  return s + "\nexit " + std::to_string(r.exit_code) + "\nstdout: " + r.out.substr(0, 2000) +
         "\nstderr: " + r.err.substr(0, 2000);
}

// The fixtures under ../shared the CLI tests run on (see ../shared/DATA.md).
inline std::string stories260k_bin() { return shared_path("models/stories260K/stories260K.bin"); }
inline std::string stories260k_gguf() { return shared_path("models/stories260K/stories260K.gguf"); }
inline std::string ts_llama_bin() { return shared_path("models/ts-llama-4.9M/ts-llama-4.9M.bin"); }
inline std::string tok512() { return shared_path("models/stories260K/tok512.bin"); }
inline std::string tinystories_valid() {
  return shared_path("data/tinystories-valid/tinystories_valid_first1000.txt");
}

// A scratch directory <temp>/<prefix>-<name>, created; fresh: emptied first.
inline std::string scratch_dir(const std::string& prefix, const std::string& name, bool fresh = false) {
  const std::string d = temp_dir() + "/" + prefix + "-" + name;
  if (fresh) std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// TinyStories validation stories 200-999 (never evaluated on: the tests
// evaluate on stories 0-99) in a temp file, as calibration text; made once.
inline std::string calibration_stories_file() {
  const std::string dir = temp_dir() + "/calibration-text";
  const std::string path = dir + "/stories200-999.txt";
  if (std::filesystem::exists(path)) return path;
  std::filesystem::create_directories(dir);
  const std::string sep = "\n<|endoftext|>\n";
  const std::string all = slurp(tinystories_valid());
  size_t pos = 0;
  for (int i = 0; i < 200 && pos != std::string::npos; ++i) {
    pos = all.find(sep, pos);
    if (pos != std::string::npos) pos += sep.size();
  }
  if (pos == std::string::npos) return "";  // the caller's run fails on the empty name
  std::ofstream(path, std::ios::binary) << all.substr(pos);
  return path;
}

}  // namespace lmpack::testing
