// Checks an output path before any work is done, so that an hour of GPTQ
// never ends in "cannot create", and no output ever replaces an input.
//
// check_output_path throws Error("<out>: <problem>") when:
// - the folder that would hold the output does not exist, is not a folder,
//   or cannot be written (probed by creating and removing the output's
//   temporary there: the truth on read-only mounts and for root);
// - a file output is an existing folder, or an existing file the user may
//   not write (read-only: left alone, as cp would); a folder output is an
//   existing file, or an existing folder that cannot be written, is a mount
//   point, or holds entries other than `replaceable` (the folder is replaced
//   as a whole, core/atomic_folder.h, and would take them along);
// - the output is one of `inputs` (the same path, or the same file through
//   a link: fs::equivalent), or, for a folder output, a folder that contains
//   an input (replacing it would delete the input).
// It also removes stale temporaries of this output (core/temporaries.h).
#pragma once

#include <string>
#include <vector>

namespace lmpack {

enum class OutputKind { kFile, kFolder };

void check_output_path(const std::string& out, OutputKind kind, const std::vector<std::string>& inputs,
                       const std::vector<std::string>& replaceable = {});

// Only the last rule for an existing folder: writable, and nothing in it but
// `replaceable` entries (AtomicFolder checks it again before the swap).
void check_folder_replaceable(const std::string& out, const std::vector<std::string>& replaceable);

// True when the name ends in ".gguf" (any case): a GGUF file, else a folder.
bool is_gguf_path(const std::string& path);

}  // namespace lmpack
