// Buffers of hundreds of megabytes (Hessians, weight matrices, a block's
// activations for every calibration token) that the kernel may back with
// transparent huge pages.
//
// Why: every 4 KiB page of a fresh allocation costs a page fault on first
// touch. glibc maps each allocation above 32 MB afresh and unmaps it on free,
// so code that makes such buffers per layer pays those faults again and again.
// On the VM that lmpack is developed on, a fault costs about 11 µs: 2.9 s per
// GB touched, where 2 MB pages cost 0.11 s per GB (measured with a 485 MB
// buffer, touched once). Asking for huge pages (madvise MADV_HUGEPAGE) works
// where the system's policy is "madvise", the default of most distributions,
// and does nothing where it is "never"; it changes no value.
#pragma once

#include <cstddef>
#include <vector>

namespace lmpack {

// Marks the 2 MiB-aligned part of [p, p + bytes) as wanting transparent huge
// pages; does nothing for ranges below 4 MiB or where the call is not
// supported. Call it before the memory is first written.
void advise_huge_pages(void* p, size_t bytes);

// n elements equal to value, in memory advised as above.
template <typename T>
std::vector<T> large_vector(size_t n, const T& value = T()) {
  std::vector<T> v;
  v.reserve(n);
  advise_huge_pages(v.data(), n * sizeof(T));
  v.resize(n, value);
  return v;
}

// A copy of [first, first + n), in memory advised as above.
template <typename T>
std::vector<T> large_copy(const T* first, size_t n) {
  std::vector<T> v;
  v.reserve(n);
  advise_huge_pages(v.data(), n * sizeof(T));
  v.assign(first, first + n);
  return v;
}

template <typename T>
std::vector<T> large_copy(const std::vector<T>& src) {
  return large_copy(src.data(), src.size());
}

}  // namespace lmpack
