// A test helper for the architecture tests (qwen3_test, gemma2_test): two
// safetensors files of F32 tensors hold the same names with the same values.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "io/safetensors.h"

namespace lmpack::testing {

inline std::vector<float> f32_values(const TensorInfo& t) {
  EXPECT_EQ(t.dtype, DType::F32) << t.name;
  std::vector<float> v(t.nbytes / sizeof(float));
  std::memcpy(v.data(), t.data, v.size() * sizeof(float));
  return v;
}

inline void expect_same_safetensors(const std::string& a_path, const std::string& b_path) {
  const SafetensorsFile a = read_safetensors(a_path);
  const SafetensorsFile b = read_safetensors(b_path);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const TensorInfo& t : a.tensors) {
    const TensorInfo* u = b.find(t.name);
    ASSERT_NE(u, nullptr) << t.name;
    EXPECT_EQ(f32_values(*u), f32_values(t)) << t.name;
  }
}

}  // namespace lmpack::testing
