#include "core/output_path.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/temporaries.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

fs::path without_trailing_slash(const std::string& out) {
  fs::path p(out);
  while (p.has_parent_path() && p.filename().empty()) p = p.parent_path();
  return p;
}

bool same(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  return fs::equivalent(a, b, ec) && !ec;
}

// "<name>.tmp.<digits>": a temporary of one of our own files.
bool is_temporary_of(const std::string& entry, const std::string& name) {
  const std::string prefix = name + ".tmp.";
  if (entry.size() <= prefix.size() || entry.compare(0, prefix.size(), prefix) != 0) return false;
  return std::all_of(entry.begin() + static_cast<long>(prefix.size()), entry.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

void check_inputs(const std::string& out, const fs::path& p, OutputKind kind, const std::vector<std::string>& inputs) {
  for (const std::string& input : inputs) {
    std::error_code ec;
    if (input.empty() || !fs::exists(input, ec)) continue;
    if (same(p, input)) throw Error(out, cat("is the input ", input, "; write the output to another path"));
    if (kind != OutputKind::kFolder) continue;
    // A folder output is replaced as a whole: no input may live inside it.
    fs::path a = fs::weakly_canonical(fs::absolute(input, ec), ec);
    while (a.has_relative_path()) {
      a = a.parent_path();
      if (same(a, p)) throw Error(out, cat("contains the input ", input, "; replacing the folder would delete it"));
    }
  }
}

}  // namespace

void check_folder_replaceable(const std::string& out, const std::vector<std::string>& replaceable) {
  const fs::path p = without_trailing_slash(out);
  if (::access(p.c_str(), W_OK | X_OK) != 0) throw Error(out, cat("folder cannot be replaced: ", std::strerror(errno)));
  struct stat self {
  }, parent{};
  const fs::path up = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (::stat(p.c_str(), &self) == 0 && ::stat(up.c_str(), &parent) == 0 && self.st_dev != parent.st_dev)
    throw Error(out, "is a mount point, which cannot be replaced as a whole: write to a new folder inside it");
  std::vector<std::string> foreign;
  std::error_code ec;
  for (fs::directory_iterator it(p, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const bool ours = std::any_of(replaceable.begin(), replaceable.end(),
                                  [&](const std::string& r) { return name == r || is_temporary_of(name, r); });
    if (!ours) foreign.push_back(name);
  }
  if (ec) throw Error(out, cat("cannot list the folder: ", ec.message()));
  if (foreign.empty()) return;
  std::sort(foreign.begin(), foreign.end());
  std::string list;
  for (size_t i = 0; i < foreign.size() && i < 3; ++i) list += (i ? ", " : "") + foreign[i];
  if (foreign.size() > 3) list += cat(" and ", foreign.size() - 3, " more");
  throw Error(out, cat("folder holds entries lmpack does not write (", list,
                       "); the output replaces the whole folder: choose a new or empty one"));
}

void check_output_path(const std::string& out, OutputKind kind, const std::vector<std::string>& inputs,
                       const std::vector<std::string>& replaceable) {
  if (out.empty()) throw Error("output", "the path is empty");
  const fs::path p = without_trailing_slash(out);
  const fs::path parent = p.has_parent_path() ? p.parent_path() : fs::path(".");
  std::error_code ec;
  const fs::file_status parent_status = fs::status(parent, ec);
  if (!fs::exists(parent_status)) throw Error(out, cat("folder ", parent.string(), " does not exist"));
  if (!fs::is_directory(parent_status)) throw Error(out, cat(parent.string(), " is not a folder"));

  const fs::file_status status = fs::status(p, ec);
  const bool exists = fs::exists(status);
  check_inputs(out, p, kind, inputs);  // the worst mistake first
  if (exists && kind == OutputKind::kFile && fs::is_directory(status))
    throw Error(out, "is a folder; the output is a file");
  if (exists && kind == OutputKind::kFolder && !fs::is_directory(status))
    throw Error(out, "exists and is not a folder; the output is a folder");
  if (exists && kind == OutputKind::kFile && ::access(p.c_str(), W_OK) != 0 && errno == EACCES)
    throw Error(out, "exists and is read-only; remove it or write to another path");
  if (exists && kind == OutputKind::kFolder) check_folder_replaceable(out, replaceable);

  remove_stale_temporaries(p.string());
  // The truth about writability (read-only mounts, ACLs, root): create the
  // output's temporary where it will be created, and remove it.
  const std::string probe = temporary_path(p.string());
  const int fd = try_create_temporary_file(probe, p.string());
  if (fd < 0) throw Error(out, cat("cannot write in folder ", parent.string(), ": ", std::strerror(-fd)));
  ::close(fd);
  remove_temporary(probe);
}

bool is_gguf_path(const std::string& path) {
  if (path.size() < 5) return false;
  std::string tail = path.substr(path.size() - 5);
  for (char& ch : tail) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return tail == ".gguf";
}

}  // namespace lmpack
