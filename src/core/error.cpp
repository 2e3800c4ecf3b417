#include "core/error.h"

#include <cstdio>
#include <cstdlib>

#include "core/temporaries.h"

namespace lmpack {

std::string count_of(int64_t n, std::string_view noun) {
  return cat(n, " ", noun, n == 1 || n == -1 ? "" : "s");
}

void check_failed(const char* expr, const char* file, int line, const std::string& msg) {
  std::fprintf(stderr, "lmpack: internal check failed at %s:%d: %s%s%s\n", file, line, expr,
               msg.empty() ? "" : ": ", msg.c_str());
  remove_temporaries_for_exit();  // no half-written output, even now
  std::abort();
}

}  // namespace lmpack
