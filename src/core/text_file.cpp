// read_text_file; see text_file.h.
#include "core/text_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace lmpack {

std::string read_text_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw Error(path, "no such file or directory");
  if (std::filesystem::is_directory(path, ec)) throw Error(path, "is a directory, expected a text file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, cat("cannot open: ", std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error(path, "read failed");
  return ss.str();
}

std::string read_text_file(const std::string& path, uint64_t max_bytes, const char* what) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (!ec && size > max_bytes)
    throw Error(path, cat("is ", size, " bytes, more than the ", max_bytes, " a ", what, " may have"));
  std::string text = read_text_file(path);
  if (text.size() > max_bytes)  // grew since, or not a regular file
    throw Error(path, cat("is more than the ", max_bytes, " bytes a ", what, " may have"));
  return text;
}

}  // namespace lmpack
