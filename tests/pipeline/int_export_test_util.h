// What the integer-export tests share (export_int_hf_test.cpp,
// export_marlin24_test.cpp): a CalibratedTensors that supplies RTN-quantized
// linears and remembers them, the exact dequantization a loaded export must
// give back, a logits comparison, and rewriting a written folder's tensors
// to break it.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "formats/decode.h"
#include "io/safetensors.h"
#include "methods/gptq.h"
#include "model/loaders.h"
#include "model/tensor_names.h"
#include "pipeline/calibrated_tensors.h"
#include "runtime/forward.h"
#include "runtime/weights.h"

namespace lmpack::testing {

namespace fs = std::filesystem;
using nlohmann::json;

inline std::vector<float> decoded(const TensorInfo& t) {
  std::vector<float> v(static_cast<size_t>(t.n_elements()));
  decode_to_f32(v.data(), t.data, t.dtype, t.n_elements());
  return v;
}

inline bool is_linear(const std::string& name, const TensorInfo& t) {  // a mixture of experts' router stays float
  return name.rfind("blk.", 0) == 0 && t.shape.size() == 2 && name.find("ffn_gate_inp") == std::string::npos;
}

// Supplies RTN-quantized linears and the checkpoint's other block tensors;
// remembers what it gave and in which order it was asked.
class RtnTensors : public CalibratedTensors {
 public:
  RtnTensors(const Checkpoint& ckpt, IntGridSpec grid, int64_t group_size)
      : ckpt_(ckpt), grid_(grid), group_size_(group_size) {}

  bool handles(const std::string& name) const override { return name.rfind("blk.", 0) == 0; }
  std::vector<float> take_f32(const std::string& name) override {
    asked.push_back(name);
    return decoded(ckpt_.tensor(name));
  }
  QuantizedMatrix take_matrix(const std::string& name) override {
    asked.push_back(name);
    if (fail_at >= 0 && static_cast<int>(given.size()) == fail_at) throw Error(name, "supplier failed");
    const TensorInfo& t = ckpt_.tensor(name);
    const std::vector<float> w = decoded(t);
    QuantizedMatrix m = rtn_quantize(w.data(), t.shape[0], t.shape[1], grid_, group_size_);
    if (zero_point_zero) m.zeros[0] = 0;
    given[name] = m;
    return m;
  }

  std::vector<std::string> asked;
  std::map<std::string, QuantizedMatrix> given;
  int fail_at = -1;
  bool zero_point_zero = false;

 private:
  const Checkpoint& ckpt_;
  IntGridSpec grid_;
  int64_t group_size_;
};

inline float fp16_round(float x) { return fp16_to_f32(f32_to_fp16(x)); }

// w = fp16(scale) · (code - zero), [rows, cols], canonical order.
inline std::vector<float> expected_weights(const QuantizedMatrix& m) {
  std::vector<float> w(static_cast<size_t>(m.rows * m.cols));
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t c = 0; c < m.cols; ++c) {
      const int64_t g = m.g_idx.empty() ? c / m.group_size : m.g_idx[c];
      w[r * m.cols + c] = fp16_round(m.scales[r * m.n_groups + g]) *
                          static_cast<float>(int{m.codes[r * m.cols + c]} - m.zeros[r * m.n_groups + g]);
    }
  return w;
}

// Loads `dir` back and checks every tensor against what was supplied: the
// linears exactly (dequantized with fp16 scales), the rest as fp16 roundings.
inline void check_loaded(const Checkpoint& src, const RtnTensors& supplied, const std::string& dir) {
  Checkpoint back = load_checkpoint(dir);
  ASSERT_EQ(back.tensors.size(), src.tensors.size());
  int linears = 0;
  for (const auto& [name, t] : src.tensors) {
    const TensorInfo& b = back.tensor(name);
    ASSERT_EQ(b.shape, t.shape) << name;
    const std::vector<float> got = decoded(b);
    std::vector<float> want;
    if (is_linear(name, t)) {
      ++linears;
      EXPECT_EQ(b.dtype, DType::F32) << name;
      want = expected_weights(supplied.given.at(name));
    } else {
      want = decoded(t);
      for (float& v : want) v = fp16_round(v);
    }
    ASSERT_EQ(got.size(), want.size());
    int64_t mismatches = 0;
    for (size_t i = 0; i < got.size(); ++i) mismatches += got[i] != want[i];
    EXPECT_EQ(mismatches, 0) << name;
  }
  size_t expected = 0;
  for (int64_t l = 0; l < src.config.n_layers; ++l) expected += block_linear_names(l, src.config).size();
  EXPECT_EQ(static_cast<size_t>(linears), expected);
}

// Logits of the loaded export against a model built from the expected weights.
inline double max_logit_difference(const Checkpoint& src, const RtnTensors& supplied, const std::string& dir) {
  Checkpoint back = load_checkpoint(dir);
  Checkpoint ref = src;
  std::vector<std::vector<float>> buffers;
  buffers.reserve(ref.tensors.size());
  for (auto& [name, t] : ref.tensors) {
    if (is_linear(name, t)) {
      buffers.push_back(expected_weights(supplied.given.at(name)));
    } else {
      buffers.push_back(decoded(t));
      for (float& v : buffers.back()) v = fp16_round(v);
    }
    t.dtype = DType::F32;
    t.data = reinterpret_cast<const uint8_t*>(buffers.back().data());
    t.nbytes = buffers.back().size() * 4;
  }
  const int32_t tokens[] = {1, 17, 42, 5, 88, 3, 60, 9};
  const int64_t n = 8, vocab = src.config.vocab_size;
  std::vector<float> a(n * vocab), b(n * vocab);
  make_fast_forward(build_weights(back), 16)->forward(tokens, n, a.data());
  make_fast_forward(build_weights(ref), 16)->forward(tokens, n, b.data());
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a[i])) return INFINITY;
    d = std::max(d, static_cast<double>(std::fabs(a[i] - b[i])));
  }
  return d;
}

inline json read_json(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return json::parse(s.str());
}

// Copies the folder `from` to `to` with its tensors passed through `edit`
// (false drops one), then `added` tensors appended.
struct AddedTensor {
  SafetensorsEntry entry;
  std::vector<uint8_t> bytes;
};
inline void rewrite(const std::string& from, const std::string& to,
                    const std::function<bool(TensorInfo&, std::vector<uint8_t>&)>& edit,
                    const std::vector<AddedTensor>& added = {}) {
  fs::remove_all(to);
  fs::create_directories(to);
  fs::copy(from + "/config.json", to + "/config.json");
  const SafetensorsFile st = read_safetensors(from + "/model.safetensors");
  std::vector<SafetensorsEntry> entries;
  std::vector<std::vector<uint8_t>> data;
  for (TensorInfo t : st.tensors) {
    std::vector<uint8_t> bytes(t.data, t.data + t.nbytes);
    if (!edit(t, bytes)) continue;
    entries.push_back({t.name, t.dtype, t.shape});
    data.push_back(std::move(bytes));
  }
  for (const AddedTensor& a : added) {
    entries.push_back(a.entry);
    data.push_back(a.bytes);
  }
  write_safetensors(to + "/model.safetensors", entries,
                    [&](size_t i, SafetensorsSink& sink) { sink.write(data[i].data(), data[i].size()); });
}

inline void expect_load_error(const std::string& dir, const std::string& fragment) {
  try {
    load_checkpoint(dir);
    ADD_FAILURE() << "expected an error about " << fragment;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

}  // namespace lmpack::testing
