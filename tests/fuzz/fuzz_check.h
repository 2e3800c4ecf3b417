// What every harness checks, whichever driver runs it: the one error a reader
// may throw is lmpack::Error, and its message must be one short line naming
// the input ("<where>: <problem>", printable, valid UTF-8). A broken check
// prints what broke and aborts, which libFuzzer records as a crash (saving the
// input) and ctest as a failed test.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "core/error.h"

namespace lmpack::fuzz {

// The name harnesses give their input in error messages.
inline const std::string kWhere = "fuzz-input";

[[noreturn]] void fail(const std::string& what);

// Aborts unless `message` starts with one of `wheres` followed by ": ", is at
// most a few hundred bytes, has no control characters and is valid UTF-8.
void check_message(std::string_view message, std::initializer_list<std::string_view> wheres);

// Runs fn(); an lmpack::Error is checked (check_message) and swallowed.
// Returns whether fn() completed without one.
template <typename Fn>
bool run_checked(Fn&& fn, std::initializer_list<std::string_view> wheres = {kWhere}) {
  try {
    fn();
    return true;
  } catch (const Error& e) {
    check_message(e.what(), wheres);
    return false;
  }
}

}  // namespace lmpack::fuzz

#define LMPACK_FUZZ_CHECK(cond, ...)                                                             \
  do {                                                                                           \
    if (!(cond))                                                                                 \
      ::lmpack::fuzz::fail(::lmpack::cat(__FILE__, ":", __LINE__, ": ", #cond __VA_OPT__(, ": ", ) \
                                             __VA_ARGS__));                                      \
  } while (0)
