// Element types of stored tensors: the enum, its names and GGML ids, and
// scalar fp16/bf16 conversion.
//
// DType values are GGML's type ids, so a GGUF tensor's type field casts
// directly once dtype_from_ggml_id has accepted it; safetensors dtypes map
// onto the same enum. What a type stores (block sizes, codecs) belongs to the
// formats layer: formats/format_sizes.h and the format table formats/format.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
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

// The type of a GGML type id, or nullopt for an id this build does not know.
std::optional<DType> dtype_from_ggml_id(uint32_t ggml_type_id);
std::string_view dtype_name(DType type);                      // GGML spelling: "f32", "q4_K", ...
std::optional<DType> dtype_from_name(std::string_view name);  // case-insensitive
// "f32" | "f16" | "bf16" (either case) -> DType; anything else ->
// Error(where, "unknown type '<value>' (expected f32, f16 or bf16)").
DType parse_float_dtype(const std::string& where, std::string_view value);

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
