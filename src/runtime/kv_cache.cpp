#include "runtime/kv_cache.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "model/config.h"

namespace lmpack {
namespace {

float* reserve(size_t bytes, int64_t max_context) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    throw Error("context", cat("cannot reserve ", bytes, " bytes of KV cache for ", max_context,
                               " positions: ", std::strerror(errno), " (ask for a shorter context)"));
  return static_cast<float*>(p);
}

}  // namespace

KvCache::KvCache(int64_t n_layers, int64_t max_context, int64_t kv_dim)
    : max_context_(max_context), layer_stride_(0) {
  LMPACK_CHECK(n_layers > 0 && max_context > 0 && kv_dim > 0);
  if (max_context > kMaxContextLength)
    throw Error("context", cat(max_context, " positions exceed lmpack's limit of ", kMaxContextLength,
                               " (ask for a shorter context)"));
  // Checked: a config from a file bounds each factor, not their product.
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(max_context), static_cast<uint64_t>(kv_dim), &bytes) ||
      __builtin_mul_overflow(bytes, static_cast<uint64_t>(n_layers) * sizeof(float), &bytes) ||
      bytes > (uint64_t{1} << 46))
    throw Error("context", cat("a KV cache of ", n_layers, " layers x ", max_context, " positions x ", kv_dim,
                               " values exceeds this machine's address space (ask for a shorter context)"));
  layer_stride_ = max_context * kv_dim;
  bytes_ = static_cast<size_t>(bytes);
  keys_ = reserve(bytes_, max_context);
  try {
    values_ = reserve(bytes_, max_context);
  } catch (...) {
    ::munmap(keys_, bytes_);
    throw;
  }
}

KvCache::~KvCache() {
  ::munmap(keys_, bytes_);
  ::munmap(values_, bytes_);
}

}  // namespace lmpack
