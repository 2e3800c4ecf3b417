#include "core/temporaries.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/notice.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

struct Temporary {
  bool folder = false;
  std::string output;  // what it becomes at commit
};

struct Registry {
  std::timed_mutex mutex;
  std::map<std::string, Temporary> live;  // by temporary path
};

// Never destroyed: the listener thread may use it while the process exits.
Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}

bool registered(const std::string& tmp) {
  std::lock_guard lock(registry().mutex);
  return registry().live.count(tmp) != 0;
}

// A process with this id exists (perhaps another user's).
bool process_exists(long pid) { return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM; }

// The pid in "<base>.tmp.<pid>" (or "<base>.tmp.<pid>.old", an old output
// folder moved aside by AtomicFolder), or -1 when `name` is not such a name.
long temporary_owner(const std::string& name, const std::string& base) {
  const std::string prefix = base + ".tmp.";
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return -1;
  std::string digits = name.substr(prefix.size());
  if (digits.size() > 4 && digits.compare(digits.size() - 4, 4, ".old") == 0) digits.resize(digits.size() - 4);
  if (digits.empty() || digits.size() > 9) return -1;
  for (char c : digits)
    if (c < '0' || c > '9') return -1;
  return std::stol(digits);
}

// No process holds the flock of `tmp` (its writer ended).
bool unlocked(const std::string& tmp) {
  const int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return false;  // gone, or not ours to judge
  const bool free = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
  ::close(fd);
  return free;
}

bool is_stale(const std::string& tmp, long pid) {
  if (pid == ::getpid()) {
    if (registered(tmp)) return false;  // ours, live
  } else if (process_exists(pid)) {
    return false;
  }
  return unlocked(tmp);
}

// `tmp` (our own name) exists but is not ours: left by an earlier process
// that had our pid, unless a live writer elsewhere still holds it.
bool remove_leftover_of_our_pid(const std::string& tmp) {
  if (!unlocked(tmp)) return false;
  std::error_code ec;
  fs::remove_all(tmp, ec);
  return !ec;
}

void lock_and_register(int fd, const std::string& tmp, bool folder, const std::string& output) {
  ::flock(fd, LOCK_EX | LOCK_NB);  // a fresh inode: always ours to lock
  registry().live[tmp] = Temporary{folder, output};
}

}  // namespace

std::string temporary_path(const std::string& path) { return path + ".tmp." + std::to_string(::getpid()); }

int try_create_temporary_file(const std::string& tmp, const std::string& output) {
  std::lock_guard lock(registry().mutex);
  if (registry().live.count(tmp) != 0) return -EBUSY;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0 && errno == EEXIST) {
    if (remove_leftover_of_our_pid(tmp))
      fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    else
      errno = EEXIST;
  }
  if (fd < 0) return -errno;
  lock_and_register(fd, tmp, false, output);
  return fd;
}

int create_temporary_file(const std::string& tmp, const std::string& output) {
  const int fd = try_create_temporary_file(tmp, output);
  if (fd == -EBUSY) throw Error(output, "is already being written by this process");
  if (fd < 0) throw Error(output, cat("cannot create ", tmp, ": ", std::strerror(-fd)));
  return fd;
}

int create_temporary_folder(const std::string& tmp, const std::string& output) {
  std::lock_guard lock(registry().mutex);
  if (registry().live.count(tmp) != 0) throw Error(output, "is already being written by this process");
  int rc = ::mkdir(tmp.c_str(), 0777);
  if (rc != 0 && errno == EEXIST) {
    if (remove_leftover_of_our_pid(tmp))
      rc = ::mkdir(tmp.c_str(), 0777);
    else
      errno = EEXIST;
  }
  if (rc != 0) throw Error(output, cat("cannot create folder ", tmp, ": ", std::strerror(errno)));
  const int fd = ::open(tmp.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    ::rmdir(tmp.c_str());
    throw Error(output, cat("cannot open folder ", tmp, ": ", std::strerror(err)));
  }
  lock_and_register(fd, tmp, true, output);
  return fd;
}

void forget_temporary(const std::string& tmp) {
  std::lock_guard lock(registry().mutex);
  registry().live.erase(tmp);
}

void remove_temporary(const std::string& tmp) {
  std::error_code ec;
  fs::remove_all(tmp, ec);
  forget_temporary(tmp);
}

CommitLock::CommitLock() : lock_(registry().mutex) {
  if (interrupt_requested()) throw Interrupted(interrupt_signal());
}

std::string output_name(const std::string& path) {
  std::lock_guard lock(registry().mutex);
  for (const auto& [tmp, t] : registry().live)
    if (t.folder && path.size() > tmp.size() && path.compare(0, tmp.size(), tmp) == 0 && path[tmp.size()] == '/')
      return t.output + path.substr(tmp.size());
  return path;
}

void CommitLock::forget(const std::string& tmp) { registry().live.erase(tmp); }

void remove_temporaries_for_exit() {
  Registry& r = registry();
  // Kept locked: nothing may be created or renamed into place any more. A
  // holder stuck for seconds (it cannot be, but) must not keep us alive.
  const bool locked = r.mutex.try_lock_for(std::chrono::seconds(5));
  for (const auto& [tmp, t] : r.live) {
    std::error_code ec;
    if (t.folder)
      fs::remove_all(tmp, ec);
    else
      ::unlink(tmp.c_str());
  }
  (void)locked;
}

int remove_stale_temporaries(const std::string& path) {
  fs::path p(path);
  while (!p.empty() && p.filename().empty()) p = p.parent_path();  // "out/" -> "out"
  const std::string base = p.filename().string();
  if (base.empty() || base == "." || base == "..") return 0;
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return 0;
  std::vector<std::pair<std::string, long>> candidates;  // collected first: removal disturbs iteration
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const std::string name = it->path().filename().string();
    const long pid = temporary_owner(name, base);
    if (pid >= 0) candidates.emplace_back((dir / name).string(), pid);
  }
  int removed = 0;
  for (const auto& [tmp, pid] : candidates) {
    if (!is_stale(tmp, pid)) continue;
    std::error_code rm;
    fs::remove_all(tmp, rm);
    if (rm) {
      notice(cat(tmp, ": cannot remove this stale temporary (process ", pid, " no longer runs): ", rm.message()));
    } else {
      notice(cat(tmp, ": removed a stale temporary left by process ", pid, ", which no longer runs"));
      ++removed;
    }
  }
  return removed;
}

}  // namespace lmpack
