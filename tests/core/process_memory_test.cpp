#include "core/process_memory.h"

#include <gtest/gtest.h>

#include <cstdlib>  // defines __GLIBC__ where the C library is glibc
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define LMPACK_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LMPACK_TEST_ASAN 1
#endif
#endif

namespace lmpack {
namespace {

// After keep_freed_memory, an allocation of 64 MB comes from the heap (glibc
// counts it in arena, not as a mapped block in hblkhd) and its memory stays
// with the process when freed (the heap does not shrink), free for the next.
TEST(ProcessMemory, LargeAllocationsComeFromTheHeapAndStay) {
#if defined(LMPACK_TEST_ASAN)
  GTEST_SKIP() << "AddressSanitizer's allocator replaces glibc's, whose settings this test checks";
#elif !defined(__GLIBC__) || !(__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  GTEST_SKIP() << "keep_freed_memory acts on glibc (2.33+ for mallinfo2) only";
#else
  keep_freed_memory();
  const size_t bytes = size_t{64} << 20;
  const struct mallinfo2 before = mallinfo2();
  void* volatile p = std::malloc(bytes);  // volatile: the compiler may not drop the allocation
  ASSERT_NE(p, nullptr);
  std::memset(p, 1, bytes);
  const struct mallinfo2 during = mallinfo2();
  EXPECT_EQ(during.hblkhd, before.hblkhd) << "64 MB was mapped on its own";
  EXPECT_GE(during.arena, bytes) << "the heap does not hold the allocation";
  std::free(p);
  const struct mallinfo2 after = mallinfo2();
  EXPECT_EQ(after.arena, during.arena) << "the freed memory went back to the system";
  EXPECT_GE(after.fordblks, bytes) << "the freed memory is not free for reuse";
#endif
}

}  // namespace
}  // namespace lmpack
