#include "core/cpu_features.h"

#include <cpuid.h>

#include <cstdlib>
#include <string>

namespace lmpack {
namespace {

// CPUID leaf 1, ECX bit 29. Read directly: clang 14's __builtin_cpu_supports
// does not know "f16c" (g++ does).
bool cpu_has_f16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
}

}  // namespace

Isa detected_isa() {
  static const Isa isa = [] {
    __builtin_cpu_init();
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
    const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    return avx512 ? Isa::kAvx512 : avx2 ? Isa::kAvx2 : Isa::kScalar;
  }();
  return isa;
}

Isa active_isa() {
  static const Isa isa = [] {
    Isa cap = Isa::kAvx512;
    if (const char* env = std::getenv("LMPACK_ISA"); env != nullptr) {
      const std::string v(env);
      if (v == "scalar") cap = Isa::kScalar;
      else if (v == "avx2") cap = Isa::kAvx2;
    }
    const Isa d = detected_isa();
    return static_cast<int>(cap) < static_cast<int>(d) ? cap : d;
  }();
  return isa;
}

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
  }
  return "?";
}

}  // namespace lmpack
