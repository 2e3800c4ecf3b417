#include "core/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace lmpack {

std::shared_ptr<MappedFile> MappedFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path, cat("cannot open: ", std::strerror(errno)));
  struct stat st{};
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    throw Error(path, cat("cannot stat: ", std::strerror(e)));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw Error(path, "is a directory, expected a file");
  }
  std::shared_ptr<MappedFile> f(new MappedFile());
  f->path_ = path;
  f->size_ = static_cast<size_t>(st.st_size);
  if (f->size_ > 0) {
    void* p = ::mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      ::close(fd);
      throw Error(path, cat("cannot mmap: ", std::strerror(e)));
    }
    f->data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
  return f;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

void ByteReader::seek(size_t offset) {
  if (offset > size_) fail(cat("offset ", offset, " is past the end of the file (", size_, " bytes)"));
  pos_ = offset;
}

void ByteReader::need(uint64_t n, std::string_view what) const {
  if (n > size_ - pos_)
    throw Error(where_, cat("truncated at offset ", pos_, " reading ", what, " (need ", n, " bytes, ",
                            size_ - pos_, " left)"));
}

std::string ByteReader::read_string(uint64_t n, std::string_view what) {
  need(n, what);
  std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
  pos_ += n;
  return s;
}

const uint8_t* ByteReader::read_bytes(uint64_t n, std::string_view what) {
  need(n, what);
  const uint8_t* p = data_ + pos_;
  pos_ += n;
  return p;
}

void ByteReader::fail(std::string_view problem) const { throw Error(where_, problem); }

}  // namespace lmpack
