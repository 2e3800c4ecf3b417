// Output files that appear whole or not at all.
//
// AtomicFile writes to "<path>.tmp.<pid>" and renames onto <path> in commit().
// If it is destroyed without commit() (an exception, an interrupt), the
// temporary is removed, so a failed run never leaves a half-written output.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace lmpack {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path);  // throws Error("<path>: cannot create ...")
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);
  void write(const std::string& s) { write(s.data(), s.size()); }
  void pad_to_alignment(uint64_t alignment);  // zero bytes up to the next multiple
  uint64_t offset() const { return offset_; }
  const std::string& path() const { return path_; }
  void commit();  // flush, fsync-free close, rename

 private:
  std::string path_;
  std::string tmp_path_;
  std::FILE* file_ = nullptr;
  uint64_t offset_ = 0;
  bool committed_ = false;
};

// Removes every temporary that a live AtomicFile owns; safe to call from a
// signal handler's exit path (see core/interrupt.h).
void atomic_file_cleanup_all();

}  // namespace lmpack
