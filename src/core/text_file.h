// Reading a whole (small) text file: config.json, quantization configs,
// calibration and evaluation text. One place for the errors: a missing file,
// a directory, a file that cannot be opened (with the system's reason) or a failed read
// throws Error("<path>", ...).
#pragma once

#include <string>

namespace lmpack {

std::string read_text_file(const std::string& path);

}  // namespace lmpack
