#include "core/interrupt.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>

#include "core/temporaries.h"

namespace lmpack {
namespace {

std::atomic<int> g_signal{0};  // first signal received
std::atomic<bool> g_installed{false};
std::atomic<bool> g_exit_claimed{false};
// Written once by install_interrupt_handler before the listener starts; never destroyed.
const InterruptOptions* g_options = nullptr;
sigset_t g_set;
pthread_t g_listener;

void write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

[[noreturn]] void finish(int sig) {
  if (g_exit_claimed.exchange(true)) {
    for (;;) ::pause();  // the other exit path is ending the process
  }
  remove_temporaries_for_exit();
  // stderr through write(2): another thread may hold stdio's locks.
  std::string line = ::isatty(STDERR_FILENO) ? "\r\033[K" : "";  // over a progress line
  line += cat(g_options != nullptr ? g_options->program : std::string("lmpack"), ": interrupted by ", signal_name(sig),
              "; stopped, no partial output left\n");
  write_all(STDERR_FILENO, line);
  ::_exit(128 + sig);
}

timespec to_timespec(std::chrono::nanoseconds d) {
  if (d.count() < 0) d = std::chrono::nanoseconds(0);
  timespec ts;
  ts.tv_sec = static_cast<time_t>(d.count() / 1000000000);
  ts.tv_nsec = static_cast<long>(d.count() % 1000000000);
  return ts;
}

void* listener_main(void*) {
  int sig = 0;
  while (sigwait(&g_set, &sig) != 0) {
  }
  g_signal.store(sig);
  // The program unwinds and calls exit_interrupted(); if it has not within
  // the grace period, or a second signal comes, end it from here.
  const auto deadline = std::chrono::steady_clock::now() + g_options->grace;
  for (;;) {
    const timespec left = to_timespec(deadline - std::chrono::steady_clock::now());
    if (sigtimedwait(&g_set, nullptr, &left) >= 0 || errno == EAGAIN) break;
  }
  finish(sig);
}

std::terminate_handler g_previous_terminate = nullptr;

// An exception that escaped (from an OpenMP region, a noexcept function):
// the process aborts, but without leaving half-written outputs behind.
void terminate_without_temporaries() {
  remove_temporaries_for_exit();
  if (g_previous_terminate != nullptr) g_previous_terminate();
  std::abort();
}

// Only threads that existed before install can run this (the rest block the
// signals): pass the signal on to the listener.
void forward_to_listener(int sig) { pthread_kill(g_listener, sig); }

}  // namespace

Interrupted::Interrupted(int sig)
    : Error("interrupted", cat("stopped by ", signal_name(sig), "; no output was written")), signal_(sig) {}

std::string signal_name(int sig) {
  switch (sig) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGHUP:
      return "SIGHUP";
    default:
      return cat("signal ", sig);
  }
}

void install_interrupt_handler(const InterruptOptions& options) {
  if (g_installed.exchange(true)) return;
  g_options = new InterruptOptions(options);
  sigemptyset(&g_set);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old {};
    if (sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;  // nohup, background job
    sigaddset(&g_set, sig);
  }
  ::signal(SIGXFSZ, SIG_IGN);
  g_previous_terminate = std::set_terminate(terminate_without_temporaries);
  pthread_sigmask(SIG_BLOCK, &g_set, nullptr);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  const int rc = pthread_create(&g_listener, &attr, listener_main, nullptr);
  pthread_attr_destroy(&attr);
  if (rc != 0) {  // no listener: leave the default dispositions
    pthread_sigmask(SIG_UNBLOCK, &g_set, nullptr);
    return;
  }
  struct sigaction sa {};
  sa.sa_handler = forward_to_listener;
  sigfillset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int sig : {SIGINT, SIGTERM, SIGHUP})
    if (sigismember(&g_set, sig)) sigaction(sig, &sa, nullptr);
}

bool interrupt_requested() { return g_signal.load(std::memory_order_relaxed) != 0; }

int interrupt_signal() { return g_signal.load(std::memory_order_relaxed); }

void throw_if_interrupted() {
  if (const int sig = interrupt_signal()) throw Interrupted(sig);
}

void exit_interrupted() {
  std::fflush(stdout);  // the caller's thread: safe here, unlike in the listener
  const int sig = interrupt_signal();
  finish(sig != 0 ? sig : SIGINT);
}

}  // namespace lmpack
