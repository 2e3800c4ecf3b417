// Process resource figures reported by the CLI and the benchmarks: peak
// resident memory (getrusage). Wall time: core/stopwatch.h.
#pragma once

#include <cstdint>

namespace lmpack {

// Peak resident set size of this process so far, in bytes.
int64_t peak_rss_bytes();

}  // namespace lmpack
