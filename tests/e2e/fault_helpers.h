// Shared pieces of the fault tests (output checks, full disks, interrupts,
// stale temporaries): the lmpack CLI as a child process, snapshots of a
// folder's files to prove nothing changed, and a private mount namespace for
// real read-only and full file systems.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "child_process.h"
#include "cli_runner.h"
#include "test_paths.h"

namespace lmpack::testing {

// Starts `lmpack args...`, its stdout/stderr in <log_dir>/child.{out,err}.
inline ChildProcess start_cli(const std::vector<std::string>& args, const std::string& log_dir, ChildOptions o = {}) {
  std::vector<std::string> argv{lmpack_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::filesystem::create_directories(log_dir);
  return ChildProcess(argv, log_dir, {}, o);
}

// Every regular file under `dir` (relative path -> contents).
inline std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) files[std::filesystem::relative(e.path(), dir).string()] = slurp(e.path().string());
  return files;
}

// Names directly in `dir`, sorted.
inline std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// Names in `dir` that look like temporaries ("*.tmp.*").
inline std::vector<std::string> temporaries_in(const std::string& dir) {
  std::vector<std::string> t;
  for (const std::string& n : names_in(dir))
    if (n.find(".tmp.") != std::string::npos) t.push_back(n);
  return t;
}

// Runs /bin/sh `script` in a private mount namespace (unshare -m; -r -m when
// not root), where it may mount a tmpfs. `env` is added to the environment.
// Returns the result; exit code 200 means the script could not mount.
inline ChildResult run_in_mount_namespace(const std::string& script, const std::string& log_dir,
                                          const std::vector<std::string>& env) {
  std::filesystem::create_directories(log_dir);
  const std::string path = log_dir + "/script.sh";
  std::ofstream(path) << script;
  std::vector<std::string> argv = {"/usr/bin/unshare", "-m"};
  if (::geteuid() != 0) argv.insert(argv.begin() + 1, "-r");
  argv.insert(argv.end(), {"/bin/sh", path});
  ChildProcess child(argv, log_dir, env);
  return child.wait(120);
}

// Why a private tmpfs cannot be mounted here ("" when it can).
inline std::string mount_namespace_unavailable(const std::string& log_dir) {
  if (!std::filesystem::exists("/usr/bin/unshare")) return "/usr/bin/unshare is not installed";
  const std::string mnt = log_dir + "/probe-mnt";
  std::filesystem::create_directories(mnt);
  const ChildResult r =
      run_in_mount_namespace("mount -t tmpfs -o size=64k tmpfs \"$MNT\" || exit 200\n", log_dir, {"MNT=" + mnt});
  if (r.exit_code == 0) return "";
  return "cannot mount a private tmpfs (unshare -m" + std::string(::geteuid() != 0 ? " -r" : "") +
         " needs root or unprivileged user namespaces): exit " + std::to_string(r.exit_code) + " " + r.err;
}

// "key=value" lines of a script's stdout.
inline std::map<std::string, std::string> key_values(const std::string& out) {
  std::map<std::string, std::string> kv;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return kv;
}

}  // namespace lmpack::testing
