// parse_byte_size: binary and decimal units, spaces, case, and refusals that
// name the option.
#include "core/byte_size.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace lmpack {
namespace {

TEST(ByteSize, BinaryAndDecimalUnits) {
  EXPECT_EQ(parse_byte_size("s", "1500000"), 1500000u);
  EXPECT_EQ(parse_byte_size("s", "512B"), 512u);
  EXPECT_EQ(parse_byte_size("s", "512M"), 512u << 20);
  EXPECT_EQ(parse_byte_size("s", "2g"), uint64_t{2} << 30);
  EXPECT_EQ(parse_byte_size("s", "1.5GiB"), uint64_t{3} << 29);
  EXPECT_EQ(parse_byte_size("s", "2.5 GiB"), 2684354560u);
  EXPECT_EQ(parse_byte_size("s", "4k"), 4096u);
  EXPECT_EQ(parse_byte_size("s", "3GB"), 3000000000u);
  EXPECT_EQ(parse_byte_size("s", "750mb"), 750000000u);
  EXPECT_EQ(parse_byte_size("s", "1 TB"), 1000000000000u);
}

TEST(ByteSize, RefusalsNameTheOption) {
  for (const char* bad : {"", "GB", "3 parsecs", "-1GB", "0", "nan", "0.5", "1e30"}) {
    try {
      parse_byte_size("--target-size", bad);
      FAIL() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.where(), "--target-size") << bad;
      EXPECT_NE(std::string(e.what()).find("512M"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace lmpack
