// Interrupts (SIGINT, SIGTERM, SIGHUP) taken by one listener thread, never by
// a signal handler.
//
// install_interrupt_handler() must be the first thing main does, before any
// other thread exists: it blocks the signals in the calling thread, so every
// thread started later (OpenMP's team, oneDNN's) inherits the block, and
// starts a listener thread that receives them with sigwait(). The kernel then
// never pushes a signal frame onto a worker's stack: oneDNN 2.6's JIT sgemm
// runs with its stack pointer inside heap buffers, and a frame written there
// corrupted the heap ("free(): invalid next size", issue 9). The listener is
// an ordinary thread, so it may take locks and remove files.
//
// First signal: interrupt_requested() turns true. Long loops poll
// throw_if_interrupted(), which throws Interrupted; the owners of temporary
// outputs remove them while unwinding, commits refuse to rename (no output
// appears once an interrupt arrived), and the program ends through
// exit_interrupted(). If the process is still running after the grace period
// (a phase that does not poll), or at a second signal, the listener ends it
// itself. Either way: every registered temporary is removed
// (core/temporaries.h), one line "<program>: interrupted by SIGINT; ..." goes
// to stderr, and the exit status is 128 + signal (130, 143, 129).
//
// Signals ignored at start (nohup, a shell's background job) stay ignored.
// SIGXFSZ is ignored too, so writing past RLIMIT_FSIZE fails with EFBIG and
// unwinds like a full disk instead of killing the process. std::terminate
// (an exception escaping an OpenMP region) removes the temporaries before it
// aborts, as LMPACK_CHECK failures do; only a SIGKILL or a crash leaves one,
// for the next run to sweep (core/temporaries.h).
#pragma once

#include <chrono>
#include <string>

#include "core/error.h"

namespace lmpack {

// Thrown by throw_if_interrupted() and by commits after an interrupt.
class Interrupted : public Error {
 public:
  explicit Interrupted(int signal);
  int signal() const { return signal_; }

 private:
  int signal_;
};

struct InterruptOptions {
  std::string program = "lmpack";         // first word of the stderr line
  std::chrono::milliseconds grace{2000};  // first signal -> forced exit after this
};

// Once per process, first in main (later calls do nothing). Threads that
// already exist are covered by a forwarding handler, but they may take the
// signal frame on their stack; hence "first".
void install_interrupt_handler(const InterruptOptions& options = {});

bool interrupt_requested();
int interrupt_signal();  // the first signal received, 0 when none
void throw_if_interrupted();

// Removes every registered temporary, prints the one line and ends the
// process with 128 + interrupt_signal(). For main's catch site once an
// interrupt was requested. If the listener is already ending the process,
// waits for it.
[[noreturn]] void exit_interrupted();

// "SIGINT", "SIGTERM", "SIGHUP", else "signal N".
std::string signal_name(int signal);

}  // namespace lmpack
