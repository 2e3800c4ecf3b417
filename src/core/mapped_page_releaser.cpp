// MappedPageReleaser; see mapped_page_releaser.h.
#include "core/mapped_page_releaser.h"

#include <sys/mman.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace lmpack {

MappedPageReleaser::MappedPageReleaser() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    std::istringstream in(line);
    std::string range, perms, offset, dev;
    uint64_t inode = 0;
    std::string path;
    in >> range >> perms >> offset >> dev >> inode >> path;
    if (inode == 0 || path.empty() || perms.size() < 2 || perms[0] != 'r' || perms[1] != '-') continue;
    const size_t dash = range.find('-');
    if (dash == std::string::npos) continue;
    ranges_.push_back({std::stoull(range.substr(0, dash), nullptr, 16), std::stoull(range.substr(dash + 1), nullptr, 16)});
  }
  page_ = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
}

void MappedPageReleaser::release(const void* data, size_t n) const {
  const uintptr_t lo = reinterpret_cast<uintptr_t>(data), hi = lo + n;
  for (const auto& [start, end] : ranges_) {
    if (lo < start || hi > end) continue;
    const uintptr_t a = (lo + page_ - 1) / page_ * page_, b = hi / page_ * page_;
    if (b > a) ::madvise(reinterpret_cast<void*>(a), b - a, MADV_DONTNEED);
    return;
  }
}

}  // namespace lmpack
