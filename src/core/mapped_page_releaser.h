// Giving the pages of a read-only, file-backed memory mapping back to the
// kernel once they have been read (madvise MADV_DONTNEED), so that streaming
// through a large mapped input does not grow the resident set to the whole
// file. Only ranges inside read-only file mappings (listed once, from
// /proc/self/maps, when the object is made) are released: dropping the pages
// of a heap buffer or a private writable mapping would lose data, so any other
// address is left alone. Make the object after the inputs are mapped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace lmpack {

class MappedPageReleaser {
 public:
  MappedPageReleaser();
  // Releases the whole pages inside [data, data + n) when that range lies in
  // one read-only file mapping; otherwise does nothing.
  void release(const void* data, size_t n) const;

 private:
  std::vector<std::pair<uint64_t, uint64_t>> ranges_;
  uintptr_t page_ = 4096;
};

}  // namespace lmpack
