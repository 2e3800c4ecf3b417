// Reusing freed memory; see process_memory.h.
#include "core/process_memory.h"

#include <cstdlib>  // defines __GLIBC__ where the C library is glibc

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace lmpack {

void keep_freed_memory() {
#if defined(__GLIBC__)
  constexpr int kOneGiB = 1 << 30;
  (void)::mallopt(M_MMAP_THRESHOLD, kOneGiB);  // a request: the defaults stay where glibc refuses it
  (void)::mallopt(M_TRIM_THRESHOLD, kOneGiB);
#endif
}

}  // namespace lmpack
