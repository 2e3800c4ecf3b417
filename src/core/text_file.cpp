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

}  // namespace lmpack
