#include "core/atomic_folder.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/notice.h"
#include "core/output_path.h"
#include "core/temporaries.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

std::string without_trailing_slash(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

}  // namespace

AtomicFolder::AtomicFolder(std::string path, std::vector<std::string> replaceable,
                           const std::vector<std::string>& inputs)
    : path_(without_trailing_slash(std::move(path))), replaceable_(std::move(replaceable)) {
  check_output_path(path_, OutputKind::kFolder, inputs, replaceable_);
  tmp_path_ = temporary_path(path_);
  dir_fd_ = create_temporary_folder(tmp_path_, path_);
}

AtomicFolder::~AtomicFolder() {
  if (dir_fd_ >= 0) ::close(dir_fd_);
  if (!committed_) remove_temporary(tmp_path_);
}

std::string AtomicFolder::file(const std::string& name) const { return tmp_path_ + "/" + name; }

void AtomicFolder::commit() {
  if (committed_) throw Error(path_, "folder committed twice");
  // Someone may have put files into the old folder meanwhile: refuse to take them along.
  std::error_code ec;
  if (fs::is_directory(path_, ec)) check_folder_replaceable(path_, replaceable_);
  std::string old;  // where the old folder went, to be deleted
  {
    CommitLock lock;  // throws Interrupted after an interrupt; the destructor removes the temporary
    if (::rename(tmp_path_.c_str(), path_.c_str()) == 0) {  // no folder there, or an empty one
      lock.forget(tmp_path_);
    } else if (errno != EEXIST && errno != ENOTEMPTY) {
      throw Error(path_, cat("cannot rename ", tmp_path_, " into place: ", std::strerror(errno)));
    } else if (::renameat2(AT_FDCWD, tmp_path_.c_str(), AT_FDCWD, path_.c_str(), RENAME_EXCHANGE) == 0) {
      old = tmp_path_;  // the old folder, still registered: an interrupt exit removes it
    } else if (errno == EINVAL || errno == ENOSYS) {
      // No RENAME_EXCHANGE on this file system: two renames, under the lock.
      old = tmp_path_ + ".old";
      if (::rename(path_.c_str(), old.c_str()) != 0)
        throw Error(path_, cat("cannot move the old folder aside: ", std::strerror(errno)));
      if (::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
        const int err = errno;
        ::rename(old.c_str(), path_.c_str());
        throw Error(path_, cat("cannot rename ", tmp_path_, " into place: ", std::strerror(err)));
      }
      lock.forget(tmp_path_);
    } else {
      throw Error(path_, cat("cannot swap ", tmp_path_, " into place: ", std::strerror(errno)));
    }
    committed_ = true;
  }
  ::close(dir_fd_);
  dir_fd_ = -1;
  if (old.empty()) return;
  remove_temporary(old);
  if (fs::exists(old, ec)) notice(cat(old, ": cannot remove this old copy of ", path_, "; remove it by hand"));
}

}  // namespace lmpack
