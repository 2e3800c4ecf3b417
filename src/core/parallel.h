// Threads: one OpenMP team for the whole process (oneDNN's GEMM uses the same
// runtime), sized once by set_num_threads (the CLI's -t N).
#pragma once

#include <cstdint>

namespace lmpack {

void set_num_threads(int n);  // n <= 0: all hardware threads
int num_threads();

// Runs fn(i) for i in [0, n) across the team, static schedule.
template <typename Fn>
void parallel_for(int64_t n, Fn&& fn) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) fn(i);
}

}  // namespace lmpack
