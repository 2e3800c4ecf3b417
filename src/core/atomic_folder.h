// Output folders that appear whole or not at all: the folder counterpart of
// AtomicFile, for every writer of a Hugging Face folder.
//
// The constructor checks the output (core/output_path.h: its parent folder
// is writable, it is no input and holds no input, an existing folder holds
// only `replaceable` entries) and creates the temporary sibling
// "<path>.tmp.<pid>" (core/temporaries.h). Files are written into it, each
// through an AtomicFile at file(name). commit() swaps it into place: a plain
// rename when <path> does not exist, else renameat2(RENAME_EXCHANGE), which
// swaps the two folders in one step; the old folder, now at the temporary
// name, is then deleted. At every instant <path> is the old folder or the
// new one, never a mix, and an input is never touched. Without commit() (an
// error, a full disk, an interrupt) the temporary folder is removed and the
// old folder stays as it was.
#pragma once

#include <string>
#include <vector>

namespace lmpack {

class AtomicFolder {
 public:
  // `replaceable`: the entries an existing folder at `path` may hold (the
  // files this kind of output consists of); `inputs`: paths the job reads.
  AtomicFolder(std::string path, std::vector<std::string> replaceable, const std::vector<std::string>& inputs = {});
  ~AtomicFolder();
  AtomicFolder(const AtomicFolder&) = delete;
  AtomicFolder& operator=(const AtomicFolder&) = delete;

  const std::string& path() const { return path_; }
  const std::string& temporary() const { return tmp_path_; }
  // Where to write `name` (inside the temporary folder).
  std::string file(const std::string& name) const;
  void commit();

 private:
  std::string path_;
  std::string tmp_path_;
  std::vector<std::string> replaceable_;
  int dir_fd_ = -1;  // holds the temporary folder's flock
  bool committed_ = false;
};

}  // namespace lmpack
