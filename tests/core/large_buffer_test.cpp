#include "core/large_buffer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace lmpack {
namespace {

TEST(LargeBuffer, HoldsWhatItIsGiven) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{1000}, size_t{3} << 20}) {  // 12 MB of floats: advised
    const std::vector<float> z = large_vector<float>(n);
    ASSERT_EQ(z.size(), n);
    for (float v : z) ASSERT_EQ(v, 0.0f);
    const std::vector<double> f = large_vector<double>(n, 2.5);
    for (double v : f) ASSERT_EQ(v, 2.5);
    std::vector<int32_t> src(n);
    for (size_t i = 0; i < n; ++i) src[i] = static_cast<int32_t>(i * 7 + 1);
    EXPECT_EQ(large_copy(src), src);
    EXPECT_EQ(large_copy(src.data(), n), src);
  }
}

TEST(LargeBuffer, AdviceOnOddRangesIsHarmless) {
  std::vector<char> small(100, 'x');
  advise_huge_pages(small.data(), small.size());
  advise_huge_pages(nullptr, size_t{64} << 20);
  advise_huge_pages(small.data() + 1, 0);
  for (char c : small) ASSERT_EQ(c, 'x');
}

// Where the system lets a program ask for huge pages (policy "madvise" or
// "always"), an advised buffer is backed by them once written: the kernel
// counts its AnonHugePages in /proc/self/smaps_rollup.
TEST(LargeBuffer, AdvisedMemoryGetsHugePagesWhereThePolicyAllows) {
  std::ifstream policy("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  if (!std::getline(policy, line) || line.find("[never]") != std::string::npos)
    GTEST_SKIP() << "transparent huge pages are off or unknown here (" << line << ")";
  auto anon_huge_kb = [] {
    std::ifstream in("/proc/self/smaps_rollup");
    std::string key;
    long long kb = -1;
    while (in >> key) {
      if (key == "AnonHugePages:") {
        in >> kb;
        break;
      }
    }
    return kb;
  };
  const long long before = anon_huge_kb();
  if (before < 0) GTEST_SKIP() << "no AnonHugePages line in /proc/self/smaps_rollup";
  std::vector<float> big = large_vector<float>(size_t{16} << 20, 1.0f);  // 64 MB
  const long long after = anon_huge_kb();
  std::printf("AnonHugePages %lld kB -> %lld kB\n", before, after);
  // The kernel may fall back to small pages when it has no free huge ones;
  // with 64 MB asked for, at least some of it must come as huge pages.
  EXPECT_GE(after - before, 2048) << "no huge page backs the advised buffer";
  EXPECT_EQ(big[12345], 1.0f);
}

}  // namespace
}  // namespace lmpack
