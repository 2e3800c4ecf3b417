// quantize_to_gguf: choose types (gguf_mix), check every option and the
// imatrix before OUT is created, declare all tensors, then stream each tensor
// chunk by chunk: decode rows to f32, quantize rows in parallel, append.
#include "pipeline/gguf_quantize.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <exception>
#include <limits>
#include <map>
#include <optional>
#include <sstream>

#include "core/error.h"
#include "core/parallel.h"
#include "core/mapped_page_releaser.h"
#include "core/output_path.h"
#include "core/progress.h"
#include "core/stopwatch.h"
#include "formats/decode.h"
#include "formats/format.h"
#include "formats/format_sizes.h"
#include "io/gguf_writer.h"
#include "io/imatrix.h"
#include "model/rope_layout.h"
#include "model/save_gguf.h"
#include "model/tensor_names.h"
#include "pipeline/gguf_mix.h"

namespace lmpack {
namespace {

// f32 elements decoded per chunk (16 MiB of floats): bounds peak memory.
constexpr int64_t kChunkElements = int64_t{4} << 20;

constexpr float kF16Max = 65504.0f;
constexpr float kFloatMax = std::numeric_limits<float>::max();

bool decodes_finite(const uint8_t* encoded, DType type, int64_t n) {
  std::vector<float> back(static_cast<size_t>(n));
  decode_to_f32(back.data(), encoded, type, n);
  for (float v : back)
    if (!std::isfinite(v)) return false;
  return true;
}

bool is_float_type(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }


// One tensor to write: where its rows come from and what it becomes.
struct Job {
  GgufTensorSource source;
  QuantizedTensor info;
  const std::vector<float>* importance = nullptr;
};

void stream_tensor(GgufWriter& writer, const Job& job, const ModelConfig& config, const MappedPageReleaser& releaser,
                   Progress* progress, int64_t& done_bytes) {
  const QuantizedTensor& t = job.info;
  const TensorInfo* in = job.source.stacked.empty() ? job.source.tensor : nullptr;  // one part: released as read
  const int64_t cols = t.shape.back();
  const int64_t rows = job.source.rows();
  const size_t src_row = dtype_bytes(t.source, cols), dst_row = dtype_bytes(t.type, cols);

  if (job.source.tensor != nullptr && t.source == t.type && !job.source.rope_halves) {  // bytes unchanged, as llama.cpp copies them
    const int64_t step = std::max<int64_t>(1, kChunkElements * 4 / static_cast<int64_t>(src_row));
    for (const TensorInfo* part : job.source.parts()) {
      for (int64_t r0 = 0; r0 < part->rows(); r0 += step) {
        const int64_t n = std::min(step, part->rows() - r0);
        writer.append_tensor_bytes(part->data + r0 * src_row, n * src_row);
        releaser.release(part->data + r0 * src_row, n * src_row);
      }
    }
    writer.end_tensor();
    done_bytes += static_cast<int64_t>(t.source_bytes);
    if (progress) progress->update(done_bytes >> 20);
    return;
  }

  const FormatOps& ops = format_ops(t.type);
  const float* importance = job.importance ? job.importance->data() : nullptr;
  // A row of importance per stacked matrix (experts): row r takes its matrix's.
  const int64_t importance_rows =
      job.importance ? static_cast<int64_t>(job.importance->size()) / std::max<int64_t>(cols, 1) : 0;
  const int64_t chunk_rows = std::clamp<int64_t>(kChunkElements / cols, 1, rows);
  std::vector<float> f32(static_cast<size_t>(chunk_rows * cols));
  // Two output buffers: chunk k is written to the file by one thread of the
  // team while the others encode chunk k + 1 (item 0 of its dynamic loop),
  // so that no thread waits for the write. Measured on the 7B-shaped F16
  // file: the copy into the page cache is a third of a Q8_0 run's samples; a
  // separate writer thread made the team's threads spin beside it.
  std::vector<uint8_t> out[2] = {std::vector<uint8_t>(static_cast<size_t>(chunk_rows) * dst_row),
                                 std::vector<uint8_t>(static_cast<size_t>(chunk_rows) * dst_row)};
  const uint8_t* pending = nullptr;  // the previous chunk's bytes, not yet in the file
  size_t pending_bytes = 0;
  constexpr int64_t kRowsPerGrab = 8;
  for (int64_t r0 = 0, chunk = 0; r0 < rows; r0 += chunk_rows, ++chunk) {
    const int64_t n = std::min(chunk_rows, rows - r0);
    std::vector<uint8_t>& buffer = out[chunk % 2];
    std::atomic<int64_t> bad_row{-1}, overflow_row{-1};
    std::exception_ptr write_error;  // an exception must not leave the parallel region
    parallel_for_dynamic(n + 1, kRowsPerGrab, [&](int64_t item) {
      if (item == 0) {
        try {
          if (pending_bytes > 0) writer.append_tensor_bytes(pending, pending_bytes);
        } catch (...) {
          write_error = std::current_exception();
        }
        return;
      }
      const int64_t i = item - 1;
      float* row = f32.data() + i * cols;
      gguf_read_rows(row, job.source, config, r0 + i, 1);
      // max |x| over the row and whether a value is not finite (without an
      // early exit, so that it vectorizes).
      float amax = 0.0f;
      int nonfinite = 0;
      for (int64_t j = 0; j < cols; ++j) {
        const float a = std::fabs(row[j]);
        amax = a > amax ? a : amax;
        nonfinite |= !(a <= kFloatMax);  // NaN or an infinity
      }
      if (nonfinite != 0) {
        int64_t expected = -1;
        bad_row.compare_exchange_strong(expected, r0 + i);
        return;
      }
      uint8_t* encoded = buffer.data() + i * dst_row;
      const float* imp = importance;
      if (importance_rows > 1) imp += (r0 + i) / (rows / importance_rows) * cols;
      ops.quantize_row(encoded, row, cols, imp);
      // Every stored type but F32/BF16 keeps F16 values or scales: beyond
      // F16's range (rare) an encoder may store an infinity; decode to see.
      if (amax > kF16Max && t.type != DType::F32 && t.type != DType::BF16 && !decodes_finite(encoded, t.type, cols)) {
        int64_t expected = -1;
        overflow_row.compare_exchange_strong(expected, r0 + i);
      }
    });
    if (bad_row.load() >= 0) throw Error(t.name, cat("non-finite value in row ", bad_row.load(), " of the input"));
    if (overflow_row.load() >= 0)
      throw Error(t.name, cat("row ", overflow_row.load(), " holds values beyond the range of ", dtype_name(t.type),
                              " (its values or scales are F16: +-65504); keep this tensor in F32 or BF16 "
                              "(a tensor type override)"));
    if (write_error) std::rethrow_exception(write_error);
    pending = buffer.data();
    pending_bytes = static_cast<size_t>(n) * dst_row;
    if (in != nullptr && !job.source.rope_halves) releaser.release(in->data + r0 * src_row, n * src_row);
    done_bytes += n * static_cast<int64_t>(src_row);
    if (progress) progress->update(done_bytes >> 20);
    throw_if_interrupted();
  }
  if (pending_bytes > 0) writer.append_tensor_bytes(pending, pending_bytes);
  for (const TensorInfo* part : job.source.parts()) releaser.release(part->data, part->nbytes);
  writer.end_tensor();
}


MixOptions make_mix_options(const QuantizeOptions& options) {
  MixOptions mix;
  mix.type = parse_quantize_type("type", options.type_name);
  for (const auto& [pattern, type] : options.tensor_types)
    mix.overrides.push_back(make_tensor_type_override("tensor_types", pattern, type));
  if (!options.output_type.empty()) mix.output_type = parse_tensor_type("output_type", options.output_type);
  if (!options.token_embedding_type.empty())
    mix.token_embedding_type = parse_tensor_type("token_embedding_type", options.token_embedding_type);
  mix.pure = options.pure;
  mix.has_imatrix = options.imatrix != nullptr || !options.imatrix_path.empty();
  mix.assigned = options.tensor_plan;
  return mix;
}

std::vector<MixChoice> choose_types(const MixOptions& mix, const Checkpoint& input, const std::vector<Job>& jobs) {
  std::vector<MixTensor> described;
  for (const Job& j : jobs) described.push_back({j.info.name, j.info.shape});
  return choose_tensor_types(mix, input.config, described);
}

// The tensors of the output file, in the writer's order (rope_freqs included
// when the config has llama3 scaling), with the checkpoint's names.
std::vector<Job> plan_jobs(const Checkpoint& input) {
  std::vector<Job> jobs;
  for (GgufTensorSource& src : gguf_tensor_plan(input)) {
    Job j;
    j.info.name = src.name;
    j.info.shape = src.shape;
    j.info.source = src.tensor ? src.tensor->dtype : DType::F32;
    j.info.source_bytes = src.tensor ? 0 : static_cast<uint64_t>(src.shape.back()) * sizeof(float);
    for (const TensorInfo* part : src.parts()) j.info.source_bytes += part->nbytes;
    j.source = std::move(src);
    jobs.push_back(std::move(j));
  }
  return jobs;
}

// A tensor the calibration pipeline supplies: encoded linear weights as they
// are, f32 tensors encoded here; q/k rows go to rotate-half order when the
// architecture wants it (rope_halves).
void write_calibrated(GgufWriter& writer, const Job& job, const ModelConfig& config, CalibratedTensors& calibrated) {
  const QuantizedTensor& t = job.info;
  const int64_t cols = t.shape.back();
  const int64_t rows = job.source.rows();
  std::vector<uint8_t> bytes;
  if (job.source.is_matrix() && is_expert_router(t.name)) {  // a router: float values, kept F32 (gguf_mix.h)
    std::vector<float> v = calibrated.take_f32(t.name);
    LMPACK_CHECK(static_cast<int64_t>(v.size()) == rows * cols, cat(t.name, ": calibrated tensor of the wrong size"));
    bytes.resize(v.size() * sizeof(float));
    std::memcpy(bytes.data(), v.data(), bytes.size());
  } else if (job.source.is_matrix()) {
    for (const TensorInfo* part : job.source.parts()) {  // Phi-3's ffn_up: gate's rows, then up's
      QuantizedMatrix m = calibrated.take_matrix(part->name);
      LMPACK_CHECK(!m.int_groups() && m.type == t.type,
                   cat(part->name, " was compressed onto ",
                       m.int_groups() ? std::string("integer groups") : std::string(dtype_name(m.type)), ", not ",
                       dtype_name(t.type)));
      bytes.insert(bytes.end(), m.data.begin(), m.data.end());
    }
  } else {
    std::vector<float> v = calibrated.take_f32(t.name);
    LMPACK_CHECK(static_cast<int64_t>(v.size()) == cols, cat(t.name, ": calibrated tensor of the wrong size"));
    if (job.source.rope_halves) {  // a q/k bias: permute its elements
      std::vector<float> perm(v.size());
      permute_rope_rows(perm.data(), v.data(), cols / config.head_dim, config.head_dim, sizeof(float),
                        RopeLayout::kAdjacent, config.rotary_dims);
      v.swap(perm);
    }
    bytes.resize(dtype_bytes(t.type, cols));
    format_ops(t.type).quantize_row(bytes.data(), v.data(), cols, nullptr);
  }
  const size_t row_bytes = dtype_bytes(t.type, cols);
  LMPACK_CHECK(bytes.size() == row_bytes * static_cast<size_t>(rows), cat(t.name, ": calibrated bytes of the wrong size"));
  if (t.type != DType::F32 && t.type != DType::BF16) {  // cheap next to the calibration that made them
    std::atomic<int64_t> bad{-1};
    parallel_for(rows, [&](int64_t r) {
      int64_t none = -1;
      if (!decodes_finite(bytes.data() + r * row_bytes, t.type, cols)) bad.compare_exchange_strong(none, r);
    });
    if (bad.load() >= 0)
      throw Error(t.name, cat("row ", bad.load(), " of the calibrated result is not finite in ", dtype_name(t.type),
                              " (NaN/Inf input weights, or values beyond F16's +-65504; keep this tensor in "
                              "F32 or BF16 with `tensor_types`)"));
  }
  if (job.source.rope_halves && job.source.is_matrix()) {
    std::vector<uint8_t> out(bytes.size());
    permute_rope_rows(out.data(), bytes.data(), rows / config.head_dim, config.head_dim, row_bytes,
                      RopeLayout::kAdjacent, config.rotary_dims);
    bytes.swap(out);
  }
  writer.append_tensor_bytes(bytes.data(), bytes.size());
  writer.end_tensor();
}

}  // namespace

std::string default_model_name(const std::string& path) {
  std::filesystem::path p(path);
  std::string stem = p.has_filename() ? p.stem().string() : p.parent_path().filename().string();
  return stem.empty() ? std::string("model") : stem;
}

std::map<std::string, DType> GgufTypePlan::types() const {
  std::map<std::string, DType> types;
  for (const MixChoice& c : choices) {
    types[c.name] = c.type;
    if (auto it = stacked.find(c.name); it != stacked.end())
      for (const std::string& part : it->second) types[part] = c.type;
  }
  return types;
}

GgufTypePlan plan_gguf(const Checkpoint& input, const QuantizeOptions& options) {
  GgufTypePlan plan;
  plan.mix = make_mix_options(options);
  const std::vector<Job> jobs = plan_jobs(input);
  plan.choices = choose_types(plan.mix, input, jobs);
  for (const Job& j : jobs)
    for (const TensorInfo* part : j.source.stacked) plan.stacked[j.info.name].push_back(part->name);
  for (const auto& entry : options.tensor_plan) {
    const std::string& name = entry.first;  // a structured binding: clang 14 cannot capture it
    const auto it = std::find_if(plan.choices.begin(), plan.choices.end(),
                                 [&](const MixChoice& c) { return c.name == name; });
    if (it == plan.choices.end()) throw Error("tensor_plan", cat("the output has no tensor named ", name));
    if (!it->quantizable) throw Error("tensor_plan", cat(name, " is not a matrix the output quantizes"));
  }
  return plan;
}

std::map<std::string, DType> plan_gguf_types(const Checkpoint& input, const QuantizeOptions& options) {
  return plan_gguf(input, options).types();
}

TensorImportance tensor_importance(const MixOptions& mix, const MixChoice& choice, int64_t cols,
                                   const ImportanceMatrix& imatrix, const std::string& imatrix_path, int64_t n_mat) {
  TensorImportance out;
  if (!mix.has_imatrix || !choice.quantizable || is_float_type(choice.type)) return out;
  auto it = imatrix.values.find(choice.name);
  if (it == imatrix.values.end()) {
    out.missing = true;
  } else if (static_cast<int64_t>(it->second.size()) != cols &&
             !(n_mat > 1 && static_cast<int64_t>(it->second.size()) == cols * n_mat)) {
    if (choice.name != "token_embd.weight")  // llama.cpp ignores a token_embd mismatch too
      throw Error(imatrix_path,
                  cat(choice.name, ": ", it->second.size(), " importance values, the tensor has ", cols, " columns"));
    out.ignored = true;
  } else {
    out.values = &it->second;
  }
  return out;
}

uint64_t gguf_overhead_bytes(const Checkpoint& input, const QuantizeOptions& options, const GgufTypePlan& plan) {
  GgufWriter writer(input.path + ".measure");  // declares only: no file is created
  add_model_metadata(writer, input, static_cast<uint32_t>(plan.mix.type.file_type),
                     options.model_name.empty() ? default_model_name(input.path) : options.model_name);
  if (!options.recipe.empty()) writer.add_string("lmpack.recipe", options.recipe);
  if (!options.allocation.empty()) writer.add_string("lmpack.allocation", options.allocation);
  const std::vector<Job> jobs = plan_jobs(input);
  LMPACK_CHECK(plan.choices.size() == jobs.size(), "a type plan of another model");
  for (size_t i = 0; i < jobs.size(); ++i) writer.add_tensor(jobs[i].info.name, plan.choices[i].type, jobs[i].info.shape);
  constexpr uint64_t kAlignment = 32;  // GgufWriter's default, as quantize_to_gguf writes
  return writer.header_bytes() + jobs.size() * (kAlignment - 1);
}

QuantizeReport quantize_to_gguf(const Checkpoint& input, const std::string& out_path, const QuantizeOptions& options,
                                CalibratedTensors* calibrated, const GgufTypePlan* given_plan) {
  Stopwatch clock;
  check_output_path(out_path, OutputKind::kFile, {input.path, options.imatrix_path});
  std::optional<GgufTypePlan> own_plan;
  if (given_plan == nullptr) own_plan = plan_gguf(input, options);
  const GgufTypePlan& plan = given_plan != nullptr ? *given_plan : *own_plan;
  const MixOptions& mix = plan.mix;
  std::shared_ptr<const ImportanceMatrix> read;
  if (options.imatrix == nullptr && !options.imatrix_path.empty())
    read = std::make_shared<const ImportanceMatrix>(read_imatrix(options.imatrix_path));
  const ImportanceMatrix empty;
  const ImportanceMatrix& imatrix = options.imatrix ? *options.imatrix : read ? *read : empty;

  std::vector<Job> jobs = plan_jobs(input);
  const std::vector<MixChoice>& choices = plan.choices;
  LMPACK_CHECK(choices.size() == jobs.size(), "a type plan of another model");

  QuantizeReport report;
  report.out_path = out_path;
  report.type_name = mix.type.name;
  report.file_type = static_cast<uint32_t>(mix.type.file_type);
  report.threads = num_threads();
  std::vector<std::string> missing_importance;
  for (size_t i = 0; i < jobs.size(); ++i) {
    Job& j = jobs[i];
    QuantizedTensor& t = j.info;
    LMPACK_CHECK(choices[i].name == t.name, cat("a type plan of another model (", choices[i].name, ")"));
    t.type = choices[i].type;
    t.note = choices[i].note;
    t.fallback = choices[i].fallback;
    t.wanted = choices[i].wanted;
    const bool copied = j.source.tensor != nullptr && t.type == t.source && !j.source.rope_halves;
    if (!copied && !decodable_to_f32(t.source))
      throw Error(input.path, cat(t.name, ": source type ", dtype_name(t.source), " cannot be decoded"));
    if (!copied) {
      const FormatOps* ops = find_format_ops(t.type);
      if (ops == nullptr || ops->quantize_row == nullptr)
        throw Error(dtype_name(t.type), cat("cannot be written by this build (needed for ", t.name, ")"));
    }
    const int64_t cols = t.shape.empty() ? 1 : t.shape.back();
    int64_t n_elements = 1;
    for (int64_t d : t.shape) n_elements *= d;
    t.bytes = dtype_bytes(t.type, n_elements);
    report.parameters += n_elements;
    report.input_bytes += t.source_bytes;
    report.output_bytes += t.bytes;
    if (!copied) {
      const auto n_mat = static_cast<int64_t>(std::max<size_t>(1, j.source.stacked.size()));
      const TensorImportance imp = tensor_importance(mix, choices[i], cols, imatrix, options.imatrix_path,
                                                     t.shape.size() == 3 ? n_mat : 1);
      if (imp.missing) missing_importance.push_back(t.name);
      if (imp.ignored)
        report.warnings.push_back(cat(options.imatrix_path, ": ", t.name, ": ", imatrix.values.at(t.name).size(),
                                      " importance values for ", cols, " columns, ignored"));
      j.importance = imp.values;
      t.used_importance = imp.values != nullptr;
    }
  }
  if (!missing_importance.empty()) {
    std::string list;
    for (size_t i = 0; i < missing_importance.size() && i < 4; ++i) list += (i ? ", " : "") + missing_importance[i];
    if (missing_importance.size() > 4) list += cat(", ... (", missing_importance.size() - 4, " more)");
    report.warnings.push_back(cat(options.imatrix_path, ": no importance for ", missing_importance.size(),
                                  " quantized tensor(s), quantized without: ", list));
  }

  GgufWriter writer(out_path);
  add_model_metadata(writer, input, report.file_type,
                     options.model_name.empty() ? default_model_name(input.path) : options.model_name);
  if (!options.recipe.empty()) writer.add_string("lmpack.recipe", options.recipe);
  if (!options.allocation.empty()) writer.add_string("lmpack.allocation", options.allocation);
  for (const Job& j : jobs) writer.add_tensor(j.info.name, j.info.type, j.info.shape);
  writer.begin_data();

  const MappedPageReleaser releaser;
  std::unique_ptr<Progress> progress;
  if (options.show_progress)
    progress = std::make_unique<Progress>("quantize", static_cast<int64_t>(report.input_bytes >> 20), "MiB");
  int64_t done = 0;
  for (const Job& j : jobs) {
    throw_if_interrupted();
    if (calibrated != nullptr && calibrated->handles(j.info.name)) {
      write_calibrated(writer, j, input.config, *calibrated);
      done += static_cast<int64_t>(j.info.source_bytes);
      if (progress) progress->update(done >> 20);
    } else {
      stream_tensor(writer, j, input.config, releaser, progress.get(), done);
    }
    report.tensors.push_back(j.info);
  }
  writer.finish();
  if (progress) progress->finish();
  std::error_code ec;
  report.file_bytes = std::filesystem::file_size(out_path, ec);
  report.seconds = clock.seconds();
  return report;
}

std::vector<QuantizeTypeSummary> summarize_by_type(const QuantizeReport& report) {
  std::map<uint32_t, QuantizeTypeSummary> by;
  for (const QuantizedTensor& t : report.tensors) {
    auto [it, fresh] = by.try_emplace(static_cast<uint32_t>(t.type));
    QuantizeTypeSummary& s = it->second;
    s.type = t.type;
    ++s.tensors;
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    s.parameters += n;
    s.bytes += t.bytes;
  }
  std::vector<QuantizeTypeSummary> out;
  for (auto& [id, s] : by) out.push_back(s);
  return out;
}

}  // namespace lmpack
