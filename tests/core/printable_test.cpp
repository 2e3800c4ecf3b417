// printable(): bytes from a file made safe for a one-line message.
#include "core/printable.h"

#include <gtest/gtest.h>

namespace lmpack {
namespace {

TEST(Printable, KeepsAsciiAndEscapesEverythingElse) {
  EXPECT_EQ(printable("blk.0.attn_q.weight"), "blk.0.attn_q.weight");
  EXPECT_EQ(printable(std::string("a\nb\0c", 5)), "a\\x0ab\\x00c");
  EXPECT_EQ(printable("\x7f\xff\xe2\x96\x81"), "\\x7f\\xff\\xe2\\x96\\x81");
  EXPECT_EQ(printable(""), "");
}

TEST(Printable, CutsLongText) {
  EXPECT_EQ(printable(std::string(100, 'x')), std::string(80, 'x') + "...");
  EXPECT_EQ(printable("abcdef", 3), "abc...");
  EXPECT_EQ(printable("abc", 3), "abc");
}

}  // namespace
}  // namespace lmpack
