// Progress on stderr, shown only when stderr is a terminal.
//
// Progress prints "label  done/total  rate  eta" on one self-overwriting line
// at most a few times a second. Long loops that report progress also poll
// throw_if_interrupted() (core/interrupt.h, included here for them).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "core/interrupt.h"

namespace lmpack {

class Progress {
 public:
  Progress(std::string label, int64_t total, std::string unit = "");
  ~Progress();
  void update(int64_t done);  // cheap when nothing is printed
  // Shown after the rate and eta from the next update on ("loss 2.31, 5400 tok/s").
  void set_note(std::string note) { note_ = std::move(note); }
  void finish();

 private:
  std::string label_;
  std::string unit_;
  std::string note_;
  int64_t total_;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_print_;
};

}  // namespace lmpack
