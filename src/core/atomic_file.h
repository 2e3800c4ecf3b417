// Output files that appear whole or not at all.
//
// AtomicFile writes to "<path>.tmp.<pid>" (core/temporaries.h: registered,
// flock-held; stale ones of dead runs are removed first) and renames it onto
// <path> in commit(), after flushing the data to disk (fdatasync), so that a
// crash or power cut leaves the old file or the new one. If it is destroyed
// without commit() (an error, a full disk, an interrupt), the temporary is
// removed; an interrupt exit removes it too (core/interrupt.h). commit()
// refuses once an interrupt was requested. Write errors (ENOSPC, EFBIG, EIO)
// throw Error("<path>: write failed: <reason>").
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
  // The output as the user knows it (inside an AtomicFolder: under the final
  // folder's name), for messages.
  const std::string& path() const { return shown_; }
  const std::string& temporary() const { return tmp_path_; }
  void commit();  // flush, fdatasync, close, rename into place

 private:
  [[noreturn]] void fail(const char* what, int err);

  std::string path_;
  std::string shown_;
  std::string tmp_path_;
  std::FILE* file_ = nullptr;
  uint64_t offset_ = 0;
  bool committed_ = false;
};

// A whole file at once: written to the temporary, then committed.
void write_file_atomically(const std::string& path, const std::string& contents);

}  // namespace lmpack
