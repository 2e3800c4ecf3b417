// Sizes given as text ("512M", "2.5GiB", "3GB", "1500000"), for memory bounds
// and file-size targets: a number, then an optional unit, case-insensitive:
//   none or B             bytes
//   K M G T, KiB ... TiB  powers of 1024 (512M: 512 x 2^20)
//   KB MB GB TB           powers of 1000 (3GB: 3 x 10^9, as disks are sold)
// A space may separate them.
#pragma once

#include <cstdint>
#include <string>

namespace lmpack {

// Error(option, ...) for anything else, or a size below 1 byte or above 10^18.
uint64_t parse_byte_size(const std::string& option, const std::string& text);

}  // namespace lmpack
