// Process resource figures reported by the CLI and the benchmarks: peak
// resident memory (getrusage) and a monotonic stopwatch.
#pragma once

#include <chrono>
#include <cstdint>

namespace lmpack {

// Peak resident set size of this process so far, in bytes.
int64_t peak_rss_bytes();

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  void restart() { start_ = std::chrono::steady_clock::now(); }
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace lmpack
