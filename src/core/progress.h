// Progress on stderr, shown only when stderr is a terminal, and a clean stop.
//
// Progress prints "label  done/total  rate  eta" on one self-overwriting line
// at most a few times a second. interrupt_requested() turns true after SIGINT
// or SIGTERM once install_interrupt_handler() ran; long loops poll it and
// throw Error("interrupted") so that outputs are cleaned up by their owners.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace lmpack {

class Progress {
 public:
  Progress(std::string label, int64_t total, std::string unit = "");
  ~Progress();
  void update(int64_t done);  // cheap when nothing is printed
  void finish();

 private:
  std::string label_;
  std::string unit_;
  int64_t total_;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_print_;
};

void install_interrupt_handler();
bool interrupt_requested();
// Throws Error("interrupted", ...) when an interrupt arrived.
void throw_if_interrupted();

}  // namespace lmpack
