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

}  // namespace lmpack
