// Child processes for tests of signals, exits and file size limits: started
// without waiting, signalled, waited for with a timeout (then killed), with
// stdout and stderr captured in files. SIGINT starts at its default even when
// the test runner ignores it (a background job), unless asked otherwise.
//
// A child may be any program (the lmpack CLI), or this test binary again,
// playing one scenario and exiting before GoogleTest's main starts: a fresh
// process with no other thread, as lmpack's main is when it installs its
// interrupt handler. A test file declares its scenarios and hooks them in at
// static initialization (after the table, so the table exists):
//   const bool kChild = run_child_scenario_if_asked("interrupt", {{"poll", poll}, ...});
// and a test starts one with ChildProcess::scenario("interrupt", "poll", dir).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace lmpack::testing {

using ChildScenario = int (*)(const std::string& dir);

// In the child (LMPACK_TEST_CHILD="<file>/<scenario>"): runs the scenario
// with LMPACK_TEST_DIR and exits with its status. Otherwise returns false.
inline bool run_child_scenario_if_asked(const std::string& file, const std::map<std::string, ChildScenario>& table) {
  const char* which = std::getenv("LMPACK_TEST_CHILD");
  const char* dir = std::getenv("LMPACK_TEST_DIR");
  if (which == nullptr || dir == nullptr) return false;
  const std::string w = which;
  if (w.compare(0, file.size() + 1, file + "/") != 0) return false;
  auto it = table.find(w.substr(file.size() + 1));
  const int rc = it == table.end() ? 99 : it->second(dir);
  std::fflush(nullptr);
  std::_Exit(rc);
}

struct ChildResult {
  int exit_code = -1;  // 128 + signal when killed by one; -1: did not end in time (then killed)
  std::string out, err;
  double seconds = 0;  // from the last signal() (or the start) to the end
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct ChildOptions {
  bool ignore_sigint = false;  // start with SIGINT ignored (as nohup / a background job)
  long file_size_limit = -1;   // RLIMIT_FSIZE in bytes, SIGXFSZ left at its default
};

class ChildProcess {
 public:
  // Runs argv[0] (a path) with `env` added to this process's environment;
  // stdout and stderr go to <log_dir>/child.out and child.err.
  ChildProcess(const std::vector<std::string>& argv_s, const std::string& log_dir,
               const std::vector<std::string>& env = {}, ChildOptions o = {})
      : dir_(log_dir) {
    std::vector<std::string> env_s;
    for (char** e = environ; *e != nullptr; ++e) env_s.emplace_back(*e);
    env_s.insert(env_s.end(), env.begin(), env.end());
    std::vector<char*> envp;
    for (std::string& s : env_s) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = argv_s;
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string out = dir_ + "/child.out", err = dir_ + "/child.err";
    start_ = std::chrono::steady_clock::now();
    pid_ = ::fork();
    if (pid_ == 0) {  // only async-signal-safe calls until exec
      const int o1 = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int o2 = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int o0 = ::open("/dev/null", O_RDONLY);
      ::dup2(o0, STDIN_FILENO);
      ::dup2(o1, STDOUT_FILENO);
      ::dup2(o2, STDERR_FILENO);
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::signal(SIGINT, o.ignore_sigint ? SIG_IGN : SIG_DFL);
      ::signal(SIGTERM, SIG_DFL);
      if (o.file_size_limit >= 0) {
        struct rlimit rl = {static_cast<rlim_t>(o.file_size_limit), static_cast<rlim_t>(o.file_size_limit)};
        ::setrlimit(RLIMIT_FSIZE, &rl);
      }
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
  }

  // This test binary again, playing `scenario` of `file` with LMPACK_TEST_DIR=dir.
  static ChildProcess scenario(const std::string& file, const std::string& scenario, const std::string& dir,
                               ChildOptions o = {}) {
    return ChildProcess({std::filesystem::read_symlink("/proc/self/exe").string()}, dir,
                        {"LMPACK_TEST_CHILD=" + file + "/" + scenario, "LMPACK_TEST_DIR=" + dir}, o);
  }

  ChildProcess(ChildProcess&& other) noexcept
      : dir_(std::move(other.dir_)), pid_(other.pid_), done_(other.done_), start_(other.start_) {
    other.pid_ = -1;
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  ~ChildProcess() {
    if (pid_ > 0 && !done_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  pid_t pid() const { return pid_; }

  // Waits until `path` exists (the child's "ready" mark); false after timeout.
  bool wait_for(const std::string& path, double timeout_s = 20) const {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (std::chrono::steady_clock::now() < end) {
      if (std::filesystem::exists(path)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  void signal(int sig) {
    start_ = std::chrono::steady_clock::now();
    ::kill(pid_, sig);
  }

  ChildResult wait(double timeout_s = 20) {
    ChildResult r;
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    int status = 0;
    for (;;) {
      const pid_t w = ::waitpid(pid_, &status, WNOHANG);
      if (w == pid_) break;
      if (std::chrono::steady_clock::now() > end) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        done_ = true;
        r.out = read_file(dir_ + "/child.out");
        r.err = read_file(dir_ + "/child.err");
        return r;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    done_ = true;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = read_file(dir_ + "/child.out");
    r.err = read_file(dir_ + "/child.err");
    return r;
  }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  bool done_ = false;
  std::chrono::steady_clock::time_point start_;
};

// Names in `dir` other than the child's own output files.
inline std::vector<std::string> entries_except_child_files(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n != "child.out" && n != "child.err") names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace lmpack::testing
