// Errors and invariant checks.
//
// Bad input (files, options, shapes) throws lmpack::Error whose message reads
// "<path or option>: <problem, with the values>". The CLI's main is the only
// catch site. Broken internal invariants abort through LMPACK_CHECK with
// file:line; LMPACK_DCHECK is compiled only into debug builds (hot loops).
#pragma once

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace lmpack {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message), problem_(message) {}
  // Error(where, problem) -> "where: problem".
  Error(std::string_view where, std::string_view problem)
      : std::runtime_error(std::string(where) + ": " + std::string(problem)), where_(where), problem_(problem) {}
  // The two parts ("" where for Error(message)): a caller that knows the
  // context better (a recipe file, the CLI's flag for a request field) can
  // name the place its own way.
  const std::string& where() const { return where_; }
  const std::string& problem() const { return problem_; }

 private:
  std::string where_, problem_;
};

// cat(a, b, c...) streams its arguments into one string (g++ 12 has no <format>).
template <typename... Args>
std::string cat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

// "1 token", "2 tokens": a count with its noun, plural by adding "s".
std::string count_of(int64_t n, std::string_view noun);

[[noreturn]] void check_failed(const char* expr, const char* file, int line, const std::string& msg);

}  // namespace lmpack

#define LMPACK_CHECK(cond, ...)                                                            \
  do {                                                                                     \
    if (!(cond)) ::lmpack::check_failed(#cond, __FILE__, __LINE__, std::string{__VA_ARGS__}); \
  } while (0)

#ifdef NDEBUG
#define LMPACK_DCHECK(cond, ...) \
  do {                           \
  } while (0)
#else
#define LMPACK_DCHECK(cond, ...) LMPACK_CHECK(cond, __VA_ARGS__)
#endif
