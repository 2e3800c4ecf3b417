// The two non-cryptographic hashes the project uses, in one place:
// splitmix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number
// generators", 2014) for seeded generators and counter-based draws, and
// FNV-1a 64 for digests of names and token ids. Both give the same values on
// every platform.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lmpack {

// splitmix64 as a generator: advances state by the golden-ratio increment
// and returns the mixed new state.
inline uint64_t splitmix64_next(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// The same as a stateless hash of x (the value a generator in state x gives next).
inline uint64_t splitmix64(uint64_t x) { return splitmix64_next(x); }

inline constexpr uint64_t kFnv1aOffset = 14695981039346656037ull;

// FNV-1a 64 of n bytes, continuing from h.
inline uint64_t fnv1a64(const void* data, size_t n, uint64_t h = kFnv1aOffset) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

// FNV-1a 64 of token ids, each as its 4 little-endian bytes (the same digest
// on any byte order).
inline uint64_t fnv1a64_ids(const std::vector<int32_t>& ids) {
  uint64_t h = kFnv1aOffset;
  for (int32_t id : ids)
    for (int b = 0; b < 4; ++b) h = (h ^ ((static_cast<uint32_t>(id) >> (8 * b)) & 0xffu)) * 1099511628211ull;
  return h;
}

}  // namespace lmpack
