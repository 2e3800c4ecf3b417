// Where tests find ../shared (real models and text). Tests that need it call
// LMPACK_REQUIRE_SHARED() first, which skips with a reason when it is absent.
#pragma once

#include <gtest/gtest.h>

#include <string>

namespace lmpack::testing {

// Absolute path of ../shared relative to the source tree ("" when absent).
// LMPACK_SHARED_DIR in the environment overrides.
std::string shared_dir();
std::string shared_path(const std::string& relative);  // shared_dir() + "/" + relative
// A fresh per-process scratch directory, removed when the process exits unless
// a test failed (then its path is printed) or LMPACK_KEEP_TEST_DIR is set.
std::string temp_dir();
// The repository's root and the built lmpack binary (absolute). They are
// compiled into test_paths.cpp alone, so that no other test file's object
// depends on where the checkout is (ccache shares them between clones).
std::string source_dir();
std::string lmpack_binary();

}  // namespace lmpack::testing

#define LMPACK_REQUIRE_SHARED()                                                                 \
  do {                                                                                          \
    if (::lmpack::testing::shared_dir().empty())                                                \
      GTEST_SKIP() << "../shared (real models and text, see ../shared/DATA.md) is not present " \
                      "beside the repository; this test needs it";                              \
  } while (0)
