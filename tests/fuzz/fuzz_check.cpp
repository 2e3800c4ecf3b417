// fail() and check_message(); see fuzz_check.h.
#include "fuzz_check.h"

#include <cstdio>
#include <cstdlib>

#include "core/printable.h"

namespace lmpack::fuzz {
namespace {

constexpr size_t kMaxMessageBytes = 1024;

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

}  // namespace

void fail(const std::string& what) {
  std::fprintf(stderr, "lmpack fuzz check failed: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

void check_message(std::string_view message, std::initializer_list<std::string_view> wheres) {
  bool named = false;
  for (std::string_view where : wheres)
    named = named || (message.size() > where.size() + 2 && message.substr(0, where.size()) == where &&
                      message.substr(where.size(), 2) == ": ");
  if (!named) fail(cat("error does not start with the input's name: ", printable(message, 300)));
  if (message.size() > kMaxMessageBytes)
    fail(cat("error message of ", message.size(), " bytes: ", printable(message, 300)));
  for (char ch : message) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) fail(cat("error message with a control character: ", printable(message, 300)));
  }
  if (!valid_utf8(message)) fail(cat("error message that is not UTF-8: ", printable(message, 300)));
}

}  // namespace lmpack::fuzz
