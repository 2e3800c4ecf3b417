// DType names and GGML ids, and the fp16/bf16 conversions.
#include "core/dtype.h"

#include <array>
#include <cctype>
#include <cmath>

#include "core/error.h"

namespace lmpack {
namespace {

// GGML's name of every type lmpack knows.
struct DTypeName {
  DType type;
  std::string_view name;
};

constexpr std::array kNames = {
    DTypeName{DType::F32, "f32"},
    DTypeName{DType::F16, "f16"},
    DTypeName{DType::Q4_0, "q4_0"},
    DTypeName{DType::Q4_1, "q4_1"},
    DTypeName{DType::Q5_0, "q5_0"},
    DTypeName{DType::Q5_1, "q5_1"},
    DTypeName{DType::Q8_0, "q8_0"},
    DTypeName{DType::Q8_1, "q8_1"},
    DTypeName{DType::Q2_K, "q2_K"},
    DTypeName{DType::Q3_K, "q3_K"},
    DTypeName{DType::Q4_K, "q4_K"},
    DTypeName{DType::Q5_K, "q5_K"},
    DTypeName{DType::Q6_K, "q6_K"},
    DTypeName{DType::Q8_K, "q8_K"},
    DTypeName{DType::IQ4_NL, "iq4_nl"},
    DTypeName{DType::I8, "i8"},
    DTypeName{DType::I16, "i16"},
    DTypeName{DType::I32, "i32"},
    DTypeName{DType::I64, "i64"},
    DTypeName{DType::F64, "f64"},
    DTypeName{DType::BF16, "bf16"},
};

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

const DTypeName* find_name(uint32_t ggml_type_id) {
  for (const auto& t : kNames)
    if (static_cast<uint32_t>(t.type) == ggml_type_id) return &t;
  return nullptr;
}

}  // namespace

std::optional<DType> dtype_from_ggml_id(uint32_t ggml_type_id) {
  const DTypeName* t = find_name(ggml_type_id);
  if (t == nullptr) return std::nullopt;
  return t->type;
}

std::string_view dtype_name(DType type) {
  const DTypeName* t = find_name(static_cast<uint32_t>(type));
  LMPACK_CHECK(t != nullptr, cat("unknown dtype id ", static_cast<uint32_t>(type)));
  return t->name;
}

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& t : kNames)
    if (iequal(t.name, name)) return t.type;
  return std::nullopt;
}

DType parse_float_dtype(const std::string& where, std::string_view value) {
  if (value == "f32" || value == "F32") return DType::F32;
  if (value == "f16" || value == "F16") return DType::F16;
  if (value == "bf16" || value == "BF16") return DType::BF16;
  throw Error(where, cat("unknown type '", value, "' (expected f32, f16 or bf16)"));
}

float fp16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalize
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400u) == 0);
      bits = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (mant & 0x3ffu) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | mant << 13;
  } else {
    bits = sign | (exp + 127 - 15) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t f32_to_fp16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t abs = x & 0x7fffffffu;
  if (abs > 0x7f800000u) return sign | 0x7e00u;  // NaN
  if (abs >= 0x477ff000u) return sign | 0x7c00u;  // overflow (incl. rounding up) -> inf
  if (abs < 0x38800000u) {                        // result is subnormal or zero
    if (abs < 0x33000000u) return sign;           // below half the smallest subnormal
    const uint32_t e = abs >> 23;
    const uint32_t m = (abs & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - e;  // value = m * 2^(e-150); half unit = 2^-24
    const uint32_t rem = m & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    uint32_t half = m >> shift;
    if (rem > halfway || (rem == halfway && (half & 1))) ++half;
    return sign | static_cast<uint16_t>(half);
  }
  uint32_t e = (abs >> 23) - 127 + 15;
  uint32_t m = abs & 0x7fffffu;
  uint32_t half = e << 10 | m >> 13;
  const uint32_t rem = m & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1))) ++half;  // may carry into exponent: fine
  return sign | static_cast<uint16_t>(half);
}

uint16_t f32_to_bf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40);  // quiet NaN
  x += 0x7fffu + ((x >> 16) & 1);
  return static_cast<uint16_t>(x >> 16);
}

}  // namespace lmpack
