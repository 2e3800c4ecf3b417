// What the CPU can run, detected once, and the instruction-set level that
// kernels with per-ISA variants dispatch on. LMPACK_ISA=scalar|avx2|avx512 in
// the environment caps the level (tests, benchmarks, bug reports).
#pragma once

#include <string_view>

namespace lmpack {

enum class Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };
constexpr int kIsaCount = 3;

// kAvx2: AVX2 + FMA + F16C. kAvx512: also AVX-512 F, BW, VL, DQ.
Isa detected_isa();   // what the CPU supports
Isa active_isa();     // detected_isa() capped by LMPACK_ISA; fixed at first call
std::string_view isa_name(Isa isa);

}  // namespace lmpack
