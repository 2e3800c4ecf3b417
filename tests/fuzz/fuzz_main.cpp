// The libFuzzer entry point of one harness, chosen at compile time by
// LMPACK_FUZZ_HARNESS (fuzz_<name> targets, CMakeLists.txt's fuzzing block).
#include <cstddef>
#include <cstdint>

#include "fuzz_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lmpack::fuzz::LMPACK_FUZZ_HARNESS(data, size);
  return 0;
}
