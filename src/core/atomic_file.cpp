#include "core/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.h"
#include "core/temporaries.h"

namespace lmpack {

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), shown_(output_name(path_)) {
  remove_stale_temporaries(path_);
  tmp_path_ = temporary_path(path_);
  const int fd = create_temporary_file(tmp_path_, shown_);
  file_ = ::fdopen(fd, "wb");
  if (file_ == nullptr) {
    const int err = errno;
    ::close(fd);
    remove_temporary(tmp_path_);
    throw Error(shown_, cat("cannot create: ", std::strerror(err)));
  }
}

AtomicFile::~AtomicFile() {
  if (committed_) return;
  if (file_ != nullptr) std::fclose(file_);
  remove_temporary(tmp_path_);
}

void AtomicFile::fail(const char* what, int err) { throw Error(shown_, cat(what, ": ", std::strerror(err))); }

void AtomicFile::write(const void* data, size_t n) {
  if (n == 0) return;
  if (file_ == nullptr) throw Error(shown_, "write after commit or a failed close");
  if (std::fwrite(data, 1, n, file_) != n) fail("write failed", errno);
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
  if (file_ == nullptr) throw Error(shown_, "commit after commit or a failed close");
  // Buffered data reaches the file here: a full disk may first show now.
  if (std::fflush(file_) != 0) fail("write failed", errno);
  if (::fdatasync(::fileno(file_)) != 0 && errno != EINVAL && errno != EROFS) fail("write failed", errno);
  const int closed = std::fclose(file_);
  const int close_err = errno;
  file_ = nullptr;
  if (closed != 0) fail("close failed", close_err);
  {
    CommitLock lock;  // throws Interrupted after an interrupt: the temporary goes with the destructor
    if (std::rename(tmp_path_.c_str(), path_.c_str()) != 0) fail("cannot rename the temporary into place", errno);
    committed_ = true;
    lock.forget(tmp_path_);
  }
}

void write_file_atomically(const std::string& path, const std::string& contents) {
  AtomicFile f(path);
  f.write(contents);
  f.commit();
}

}  // namespace lmpack
