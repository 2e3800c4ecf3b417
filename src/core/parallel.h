// Threads: one OpenMP team for the whole process (oneDNN's GEMM uses the same
// runtime), sized once by set_num_threads (the CLI's -t N).
#pragma once

#include <cstdint>

namespace lmpack {

// n <= 0: all hardware threads. More threads than the hardware has never
// speed up this compute-bound work, and tens of thousands overflow the
// OpenMP runtime's stacks, so n is clamped to the hardware thread count.
// Returns the count used.
int set_num_threads(int n);
int hardware_threads();
int num_threads();

// Runs fn(i) for i in [0, n) across the team, static schedule.
template <typename Fn>
void parallel_for(int64_t n, Fn&& fn) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) fn(i);
}

// Runs fn(i) for i in [0, n) across the team in chunks of `grain` taken in
// order by whichever thread is free (dynamic schedule): for items of uneven
// cost, such as one long item (a file write) among many short ones.
template <typename Fn>
void parallel_for_dynamic(int64_t n, int64_t grain, Fn&& fn) {
#pragma omp parallel for schedule(dynamic, grain)
  for (int64_t i = 0; i < n; ++i) fn(i);
}

}  // namespace lmpack
