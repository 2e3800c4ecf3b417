// Temporary outputs: their names, the process-wide registry that the exit
// paths clean, and stale ones left behind by killed runs.
//
// An output at P is built at "P.tmp.<pid>" (a file, core/atomic_file.h, or a
// folder, core/atomic_folder.h) and renamed onto P when complete. Every live
// temporary is registered here, and its owner keeps a descriptor on it with
// an flock, so that:
// - remove_temporaries_for_exit() (the interrupt exit, core/interrupt.h)
//   removes them all and keeps the registry locked, so that no commit can
//   rename anything into place afterwards;
// - a CommitLock, held while a temporary is renamed into place, serializes
//   commits with that exit path and refuses to commit once an interrupt was
//   requested;
// - remove_stale_temporaries(P), run before P is written, removes the
//   "P.tmp.<pid>" entries of runs that died without cleaning up (SIGKILL, a
//   power cut): their process no longer exists (kill(pid, 0) fails with
//   ESRCH) and no process holds their flock. Both must hold, so a live
//   writer is never touched, whether its pid was reused or it runs in
//   another pid namespace. Each removal is reported through notice().
#pragma once

#include <mutex>
#include <string>

namespace lmpack {

// "<path>.tmp.<pid of this process>".
std::string temporary_path(const std::string& path);

// Creates the temporary (exclusively), locks it and registers it; returns
// the descriptor that holds the lock (a file opened for writing; a folder
// opened read-only). Throws Error(output, "cannot create ...").
int create_temporary_file(const std::string& tmp, const std::string& output);
// The same, returning -errno instead of throwing.
int try_create_temporary_file(const std::string& tmp, const std::string& output);
int create_temporary_folder(const std::string& tmp, const std::string& output);

// Unregisters `tmp` (it was renamed into place, or is removed by the caller).
void forget_temporary(const std::string& tmp);
// Removes `tmp` (a file or a whole folder) and unregisters it. No throw.
void remove_temporary(const std::string& tmp);

// Held while a temporary is renamed into place. Throws Interrupted when an
// interrupt was requested: no output appears after an interrupt.
class CommitLock {
 public:
  CommitLock();
  // forget_temporary() for a holder of the lock.
  void forget(const std::string& tmp);
  CommitLock(const CommitLock&) = delete;
  CommitLock& operator=(const CommitLock&) = delete;

 private:
  std::unique_lock<std::timed_mutex> lock_;
};

// The name a user knows `path` by: inside a registered temporary folder of
// output O, O's path in its place ("m.tmp.12/config.json" -> "m/config.json");
// else `path` itself. For error messages.
std::string output_name(const std::string& path);

// Removes every registered temporary and keeps the registry locked for good:
// the process is about to end. Only for the interrupt exit paths.
void remove_temporaries_for_exit();

// Removes stale "<path>.tmp.<pid>" files and folders (see above); returns
// how many. Failures to remove are reported, never thrown.
int remove_stale_temporaries(const std::string& path);

}  // namespace lmpack
