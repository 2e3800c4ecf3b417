// Element types of stored tensors, and scalar fp16/bf16 conversion.
//
// DType values are GGML's type ids, so a GGUF tensor's type field casts
// directly; safetensors dtypes map onto the same enum. Block-quantized types
// (Q4_0 ... Q6_K) store `block_elements` values in `block_bytes` bytes; the
// table in dtype.cpp is the one place these sizes are written down.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace lmpack {

enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ4_NL = 20,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  BF16 = 30,
};

struct DTypeTraits {
  DType type;
  std::string_view name;     // GGML spelling: "f32", "q4_K", ...
  int64_t block_elements;    // 1 for plain scalar types
  int64_t block_bytes;       // bytes per block
  bool decodable_to_f32;     // has a decode routine (formats/decode.h)
};

// Traits of a type, or nullptr for an id this build does not know.
const DTypeTraits* dtype_traits(uint32_t ggml_type_id);
const DTypeTraits& dtype_traits(DType type);
std::string_view dtype_name(DType type);
std::optional<DType> dtype_from_name(std::string_view name);  // case-insensitive

// Bytes for n elements; n must be a multiple of the block size (caller checks
// with dtype_row_fits first).
size_t dtype_bytes(DType type, int64_t n_elements);
bool dtype_row_fits(DType type, int64_t row_elements);

// IEEE half and bfloat16 <-> float.
float fp16_to_f32(uint16_t h);
uint16_t f32_to_fp16(float f);  // round to nearest even
inline float bf16_to_f32(uint16_t b) {
  uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
uint16_t f32_to_bf16(float f);  // round to nearest even, NaN kept quiet

}  // namespace lmpack
