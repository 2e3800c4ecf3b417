#include "core/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>

#include "core/error.h"

namespace lmpack {
namespace {

std::mutex& live_mutex() {
  static std::mutex m;
  return m;
}
std::set<std::string>& live_temporaries() {
  static std::set<std::string> s;
  return s;
}

}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  tmp_path_ = path_ + ".tmp." + std::to_string(::getpid());
  file_ = std::fopen(tmp_path_.c_str(), "wb");
  if (file_ == nullptr) throw Error(path_, cat("cannot create: ", std::strerror(errno)));
  std::lock_guard lock(live_mutex());
  live_temporaries().insert(tmp_path_);
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    if (file_ != nullptr) std::fclose(file_);
    std::remove(tmp_path_.c_str());
    std::lock_guard lock(live_mutex());
    live_temporaries().erase(tmp_path_);
  }
}

void AtomicFile::write(const void* data, size_t n) {
  if (n == 0) return;
  if (std::fwrite(data, 1, n, file_) != n) throw Error(path_, cat("write failed: ", std::strerror(errno)));
  offset_ += n;
}

void AtomicFile::pad_to_alignment(uint64_t alignment) {
  static const char kZeros[64] = {};
  uint64_t pad = (alignment - offset_ % alignment) % alignment;
  while (pad > 0) {
    uint64_t n = pad < sizeof(kZeros) ? pad : sizeof(kZeros);
    write(kZeros, n);
    pad -= n;
  }
}

void AtomicFile::commit() {
  if (std::fclose(file_) != 0) {
    file_ = nullptr;
    throw Error(path_, cat("close failed: ", std::strerror(errno)));
  }
  file_ = nullptr;
  if (std::rename(tmp_path_.c_str(), path_.c_str()) != 0)
    throw Error(path_, cat("cannot rename temporary into place: ", std::strerror(errno)));
  committed_ = true;
  std::lock_guard lock(live_mutex());
  live_temporaries().erase(tmp_path_);
}

void atomic_file_cleanup_all() {
  // try_lock: never deadlock if interrupted while the mutex is held.
  if (!live_mutex().try_lock()) return;
  for (const auto& p : live_temporaries()) ::unlink(p.c_str());
  live_mutex().unlock();
}

}  // namespace lmpack
