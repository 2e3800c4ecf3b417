// read_imatrix / write_imatrix_gguf (io/imatrix.h). Both layouts are parsed
// with bounds checks before anything is allocated for a count the file gives;
// every error is "<path>: <problem>".
#include "io/imatrix.h"

#include <cmath>
#include <cstring>
#include <set>

#include "core/error.h"
#include "core/mapped_file.h"
#include "core/printable.h"
#include "io/gguf.h"
#include "io/gguf_writer.h"

namespace lmpack {
namespace {

constexpr const char* kInSum2 = ".in_sum2";
constexpr const char* kCounts = ".counts";
constexpr const char* kDatasets = "imatrix.datasets";
constexpr const char* kChunkCount = "imatrix.chunk_count";
constexpr const char* kChunkSize = "imatrix.chunk_size";
constexpr int32_t kMaxNameBytes = 1 << 16;  // no tensor name comes near this

bool remove_suffix(std::string& s, const std::string& suffix) {
  if (s.size() < suffix.size() || s.compare(s.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
  s.resize(s.size() - suffix.size());
  return true;
}

void check_value(const std::string& path, const std::string& name, size_t i, float v) {
  if (!std::isfinite(v) || v < 0.0f)
    throw Error(path, cat("imatrix entry ", printable(name), " value ", i, " is ", v, " (must be finite and >= 0)"));
}

const float* f32_data(const std::string& path, const TensorInfo& t) {
  if (t.dtype != DType::F32)
    throw Error(path, cat("imatrix tensor ", printable(t.name), " has type ", dtype_name(t.dtype), ", expected f32"));
  return reinterpret_cast<const float*>(t.data);
}

float load_f32(const float* p, int64_t i) {
  float v;
  std::memcpy(&v, p + i, sizeof v);  // tensor data is aligned, but do not rely on it
  return v;
}

ImportanceMatrix gguf_imatrix(const uint8_t* data, size_t size, const std::string& path) {
  const GgufFile g = parse_gguf(data, size, path);
  if (g.find("general.type") != nullptr) {
    const std::string type = g.get_string("general.type");
    if (type != "imatrix") throw Error(path, cat("is a GGUF of general.type '", printable(type), "', not an imatrix"));
  }
  ImportanceMatrix m;
  if (g.find(kDatasets) != nullptr) m.datasets = g.get_string_array(kDatasets);
  if (g.find(kChunkCount) != nullptr) m.chunk_count = g.get_int(kChunkCount);
  if (g.find(kChunkSize) != nullptr) m.chunk_size = g.get_int(kChunkSize);
  if (m.chunk_count < 0 || m.chunk_size < 0)
    throw Error(path, cat(kChunkCount, " ", m.chunk_count, " / ", kChunkSize, " ", m.chunk_size, " is negative"));

  std::map<std::string, std::pair<const TensorInfo*, const TensorInfo*>> pairs;  // name -> (in_sum2, counts)
  for (const TensorInfo& t : g.tensors) {
    std::string name = t.name;
    if (remove_suffix(name, kInSum2)) {
      pairs[name].first = &t;
    } else if (remove_suffix(name, kCounts)) {
      pairs[name].second = &t;
    }  // other tensors (".in_sum") are not needed
  }
  if (pairs.empty()) throw Error(path, "holds no imatrix entries (no <tensor>.in_sum2 / <tensor>.counts tensors)");

  for (const auto& [name, pair] : pairs) {
    const TensorInfo* sums = pair.first;
    const TensorInfo* counts = pair.second;
    if (sums == nullptr || counts == nullptr)
      throw Error(path, cat("imatrix entry ", printable(name), " has ", sums ? "in_sum2 but no counts" : "counts but no in_sum2"));
    const float* s = f32_data(path, *sums);
    const float* c = f32_data(path, *counts);
    const int64_t n_mat = counts->n_elements();
    const int64_t nval = sums->n_elements();
    if (n_mat <= 0 || nval <= 0 || nval % n_mat != 0 || sums->cols() != nval / n_mat)
      throw Error(path, cat("imatrix entry ", printable(name), ": in_sum2 ", shape_string(sums->shape), " does not hold one row per "
                            "count (counts ", shape_string(counts->shape), ")"));
    const int64_t cols = nval / n_mat;
    if (n_mat > 1) m.matrices[name] = n_mat;
    std::vector<float> values(static_cast<size_t>(nval));
    for (int64_t j = 0; j < n_mat; ++j) {
      const float count = load_f32(c, j);
      if (!std::isfinite(count) || count < 0.0f)
        throw Error(path, cat("imatrix entry ", printable(name), " count ", j, " is ", count, " (must be finite and >= 0)"));
      for (int64_t i = 0; i < cols; ++i) {
        const int64_t k = j * cols + i;
        const float sum = load_f32(s, k);
        check_value(path, name, static_cast<size_t>(k), sum);
        const float value = count > 0.0f ? sum / count : 1.0f;
        if (!std::isfinite(value))
          throw Error(path, cat("imatrix entry ", printable(name), " value ", k, " is ", sum, " / count ", count,
                                ", which overflows f32"));
        values[static_cast<size_t>(k)] = value;
      }
    }
    m.values.emplace(name, std::move(values));
  }
  return m;
}

ImportanceMatrix legacy_imatrix(const uint8_t* data, size_t size, const std::string& path) {
  ByteReader r(data, size, path);
  ImportanceMatrix m;
  const int32_t n_entries = r.read<int32_t>("entry count");
  if (n_entries <= 0) throw Error(path, cat("legacy imatrix entry count is ", n_entries, ", must be positive"));
  // Each entry needs at least 4 (name length) + 1 + 4 (ncall) + 4 (nval) + 4 bytes.
  if (static_cast<uint64_t>(n_entries) > r.remaining() / 17)
    throw Error(path, cat("legacy imatrix entry count ", n_entries, " cannot fit in the ", r.remaining(), " bytes left"));
  for (int32_t e = 0; e < n_entries; ++e) {
    const std::string what = cat("entry ", e);
    const int32_t len = r.read<int32_t>(what + " name length");
    if (len <= 0 || len > kMaxNameBytes)
      throw Error(path, cat(what, " at offset ", r.offset() - 4, " has name length ", len, " (must be 1..",
                            kMaxNameBytes, ")"));
    std::string name = r.read_string(static_cast<uint64_t>(len), what + " name");
    const int32_t ncall = r.read<int32_t>(what + " ncall");
    const int32_t nval = r.read<int32_t>(what + " nval");
    if (nval <= 0) throw Error(path, cat("entry ", printable(name), " has ", nval, " values, must be positive"));
    const uint8_t* raw = r.read_bytes(static_cast<uint64_t>(nval) * 4, what + " values");
    std::vector<float> values(static_cast<size_t>(nval));
    std::memcpy(values.data(), raw, values.size() * sizeof(float));
    for (size_t i = 0; i < values.size(); ++i) {
      check_value(path, name, i, values[i]);
      if (ncall > 0) values[i] /= static_cast<float>(ncall);
    }
    if (!m.values.emplace(name, std::move(values)).second)
      throw Error(path, cat("imatrix entry ", printable(name), " appears twice"));
  }
  // Optional trailer: chunk count, then the dataset name. Either may be
  // absent (older files), but a partial field is a truncated file.
  if (r.remaining() > 0) {
    const int32_t chunks = r.read<int32_t>("chunk count");
    if (chunks < 0) throw Error(path, cat("legacy imatrix chunk count is ", chunks));
    m.chunk_count = chunks;
  }
  if (r.remaining() > 0) {
    const int32_t len = r.read<int32_t>("dataset name length");
    if (len < 0) throw Error(path, cat("legacy imatrix dataset name length is ", len));
    m.datasets.push_back(r.read_string(static_cast<uint64_t>(len), "dataset name"));
  }
  if (r.remaining() > 0)
    throw Error(path, cat(r.remaining(), " unexpected bytes after the legacy imatrix at offset ", r.offset()));
  return m;
}

}  // namespace

ImportanceMatrix parse_imatrix(const uint8_t* data, size_t size, const std::string& where) {
  if (size < 4) throw Error(where, cat("is ", size, " bytes, too short for an imatrix file"));
  const bool gguf = std::memcmp(data, "GGUF", 4) == 0;
  return gguf ? gguf_imatrix(data, size, where) : legacy_imatrix(data, size, where);
}

ImportanceMatrix read_imatrix(const std::string& path) {
  auto file = MappedFile::open(path);
  return parse_imatrix(file->data(), file->size(), path);
}

void write_imatrix_gguf(const ImportanceMatrix& m, const std::string& path) {
  if (m.values.empty()) throw Error(path, "no imatrix entries to write");
  if (m.chunk_count < 0 || m.chunk_count > int64_t{0xFFFFFFFF} || m.chunk_size < 0 ||
      m.chunk_size > int64_t{0xFFFFFFFF})
    throw Error(path, cat("imatrix chunk count ", m.chunk_count, " / chunk size ", m.chunk_size,
                          " must fit in uint32"));
  const double tokens = m.chunk_count > 0 && m.chunk_size > 0
                            ? static_cast<double>(m.chunk_count) * static_cast<double>(m.chunk_size)
                            : 1.0;
  GgufWriter w(path);
  w.add_string("general.type", "imatrix");
  w.add_string_array(kDatasets, m.datasets);
  w.add_u32(kChunkCount, static_cast<uint32_t>(m.chunk_count));
  w.add_u32(kChunkSize, static_cast<uint32_t>(m.chunk_size));
  for (const auto& [name, values] : m.values) {
    if (values.empty()) throw Error(path, cat("imatrix entry ", printable(name), " has no values"));
    for (size_t i = 0; i < values.size(); ++i) check_value(path, name, i, values[i]);
    // Names as llama.cpp sorts them (std::map order); shapes as ggml writes
    // them (trailing dimensions of 1 dropped): ne {cols} and {1}, or {cols,
    // n_mat} and {1, n_mat} (row-major here: [n_mat, cols] and [n_mat, 1]).
    auto it = m.matrices.find(name);
    const int64_t n_mat = it == m.matrices.end() ? 1 : it->second;
    const auto n = static_cast<int64_t>(values.size());
    if (n_mat < 1 || n % n_mat != 0)
      throw Error(path, cat("imatrix entry ", printable(name), ": ", n, " values do not split into ", n_mat, " matrices"));
    if (n_mat == 1) {
      w.add_tensor(name + kInSum2, DType::F32, {n});
      w.add_tensor(name + kCounts, DType::F32, {1});
    } else {
      w.add_tensor(name + kInSum2, DType::F32, {n_mat, n / n_mat});
      w.add_tensor(name + kCounts, DType::F32, {n_mat, 1});
    }
  }
  w.begin_data();
  std::vector<float> sums;
  for (const auto& [name, values] : m.values) {
    sums.resize(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      sums[i] = static_cast<float>(values[i] * tokens);
      if (!std::isfinite(sums[i]))
        throw Error(path, cat("imatrix entry ", printable(name), " value ", i, " times ", tokens, " tokens overflows f32"));
    }
    w.write_tensor(name + kInSum2, sums.data(), sums.size() * sizeof(float));
    auto it = m.matrices.find(name);
    const std::vector<float> counts(static_cast<size_t>(it == m.matrices.end() ? 1 : it->second),
                                    static_cast<float>(tokens));
    w.write_tensor(name + kCounts, counts.data(), counts.size() * sizeof(float));
  }
  w.finish();
}

}  // namespace lmpack
