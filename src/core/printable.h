// Text that came from a file (tensor names, keys, token pieces, JSON strings)
// made safe for a one-line error message: printable ASCII stays as it is,
// every other byte (control characters, DEL, bytes >= 0x80 of UTF-8 or of
// garbage) is written \xNN, and long text is cut with "...".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace lmpack {

inline constexpr size_t kPrintableMaxBytes = 80;

// printable("a\nb") == "a\\x0ab"; at most max_bytes input bytes are shown.
std::string printable(std::string_view bytes, size_t max_bytes = kPrintableMaxBytes);

}  // namespace lmpack
