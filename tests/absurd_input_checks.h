// Shared by the absurd-input tests (tests/model/absurd_inputs_test.cpp,
// tests/tokenizer/absurd_vocab_test.cpp): the error a parse throws, checked
// to be one line that starts with the input's name.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "core/error.h"

namespace lmpack::testing {

template <typename Parse>
std::string error_of(Parse&& parse, const std::string& where = "absurd") {
  try {
    parse();
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_EQ(msg.rfind(where + ": ", 0), 0u) << msg;
    return msg;
  }
  ADD_FAILURE() << "no error";
  return {};
}

}  // namespace lmpack::testing

#define EXPECT_HAS(haystack, needle) EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)
