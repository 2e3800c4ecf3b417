// Reading a whole (small) text file: config.json, quantization configs,
// calibration and evaluation text. One place for the errors: a missing file,
// a directory, a file that cannot be opened (with the system's reason) or a failed read
// throws Error("<path>", ...). The bytes come back as they are in the file: no
// decoding, no line-end conversion, NUL bytes and invalid UTF-8 kept; a caller
// that needs UTF-8 or NUL-free text checks it (and passes file text through
// printable() before it goes into a message).
#pragma once

#include <cstdint>
#include <string>

namespace lmpack {

std::string read_text_file(const std::string& path);
// The same, refusing a file larger than max_bytes ("<path>: is N bytes, more
// than the M a <what> may have") before reading any of it.
std::string read_text_file(const std::string& path, uint64_t max_bytes, const char* what);

}  // namespace lmpack
