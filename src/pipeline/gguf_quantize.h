// Writing a checkpoint as a GGUF file at any tensor type or llama.cpp mix:
// the engine behind `lmpack quantize` and `lmpack convert ... OUT.gguf`.
//
// Streaming: every tensor is declared first with the type gguf_mix chose (so
// all sizes and offsets are known), then each is read from the memory-mapped
// input, decoded to f32 a chunk of rows at a time, quantized in parallel over
// rows on all threads and appended to the GgufWriter. Peak memory is a chunk
// of rows (a few MB), not the model; consumed input pages are handed back to
// the kernel as we go. Output goes through the writer's temporary file, so a
// failure or an interrupt never leaves a partial OUT.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "io/imatrix.h"
#include "model/checkpoint.h"
#include "pipeline/calibrated_tensors.h"
#include "pipeline/gguf_mix.h"

namespace lmpack {

struct QuantizeOptions {
  std::string type_name;  // a mix ("Q4_K_M") or a tensor type ("q8_0"); see gguf_mix.h
  std::vector<std::pair<std::string, std::string>> tensor_types;  // --tensor-type REGEX=TYPE, in order
  std::string output_type;                                        // "" : the mix decides
  std::string token_embedding_type;                               // "" : the mix decides
  bool pure = false;
  std::string imatrix_path;   // "" : no importance weights
  // An importance matrix already read (wins over imatrix_path, which then only
  // names it in messages): callers that also hand it to the calibration
  // pipeline read the file once.
  std::shared_ptr<const ImportanceMatrix> imatrix;
  std::string model_name;     // general.name ("" : derived from the input path)
  std::string recipe;         // lmpack.recipe (pipeline/compress.h; "" : not written)
  // Exact types of named tensors, over the mix and every override (a bit
  // allocation, pipeline/bit_allocation.h); Error("tensor_plan", ...) for a
  // name that is not a matrix the output quantizes.
  std::map<std::string, DType> tensor_plan;
  std::string allocation;     // lmpack.allocation: the allocation that chose tensor_plan (JSON; "" : not written)
  bool show_progress = true;  // progress bar on a terminal
};

struct QuantizedTensor {
  std::string name;
  std::vector<int64_t> shape;
  DType source = DType::F32;
  DType type = DType::F32;    // written
  DType wanted = DType::F32;  // what the rules chose before a fallback (== type when none)
  bool fallback = false;
  uint64_t source_bytes = 0;
  uint64_t bytes = 0;
  bool used_importance = false;
  std::string note;  // fallback / override, "" when none
};

struct QuantizeReport {
  std::string out_path;
  std::string type_name;                 // canonical TYPE
  uint32_t file_type = 0;                // general.file_type written
  std::vector<QuantizedTensor> tensors;  // in file order
  std::vector<std::string> warnings;     // imatrix problems (fallbacks are per tensor)
  uint64_t input_bytes = 0;              // sum of the input tensors' bytes
  uint64_t output_bytes = 0;             // sum of the written tensors' bytes
  uint64_t file_bytes = 0;               // size of OUT
  int64_t parameters = 0;
  double seconds = 0.0;
  int threads = 1;
};

// The type every tensor of the output gets: the TYPE, overrides and output
// types of `options` parsed once (Error("type" / "tensor_types" /
// "output_type" / "token_embedding_type", ...)), the mix rules and the
// fallbacks applied, one choice per output tensor in the file's order.
struct GgufTypePlan {
  MixOptions mix;
  std::vector<MixChoice> choices;
  // File tensors made of several canonical ones (Phi-3's ffn_up: gate, up),
  // by file name; each part takes the file tensor's type.
  std::map<std::string, std::vector<std::string>> stacked;
  std::map<std::string, DType> types() const;  // by canonical name
};
GgufTypePlan plan_gguf(const Checkpoint& input, const QuantizeOptions& options);

// plan_gguf(input, options).types().
std::map<std::string, DType> plan_gguf_types(const Checkpoint& input, const QuantizeOptions& options);

// The importance quantize_to_gguf weights a tensor's encoding with (a
// tensor it encodes, not one it copies bit for bit): the imatrix's entry of
// that name when the plan was made with an imatrix and the tensor is a matrix
// the mix quantizes to a block type. Error(imatrix_path, ...) for an entry of
// the wrong width, except on token_embd, where it is ignored as llama.cpp does.
struct TensorImportance {
  const std::vector<float>* values = nullptr;  // [cols], or nullptr: none
  bool missing = false;  // wanted, but the imatrix has no entry of that name
  bool ignored = false;  // token_embd's entry is of another width
};
// n_mat: the matrices stacked in the tensor (a mixture of experts' 3-D
// ffn_*_exps: its experts); an entry may then hold a row of cols per matrix.
TensorImportance tensor_importance(const MixOptions& mix, const MixChoice& choice, int64_t cols,
                                   const ImportanceMatrix& imatrix, const std::string& imatrix_path,
                                   int64_t n_mat = 1);

// Throws Error for an OUT that cannot be written or is an input
// (check_output_path), for a bad TYPE/override/imatrix (before OUT is
// created) and for any failure while writing (OUT is then absent, or the old
// OUT untouched). `plan`: the plan_gguf of this input and these options when
// the caller made it already (the calibration engine needed the linears'
// types), else made here. With `calibrated`, the tensors it handles come from
// it (pipeline/calibrated_tensors.h): linear weights already encoded in the
// type the plan chose, other block tensors as f32; the rest stream from the
// checkpoint as usual.
// The bytes of OUT that are not tensor data, at most: header, metadata,
// tensor infos and the alignment padding (the largest it can be, whatever
// the tensors' types). For size targets that count the whole file.
uint64_t gguf_overhead_bytes(const Checkpoint& input, const QuantizeOptions& options, const GgufTypePlan& plan);

QuantizeReport quantize_to_gguf(const Checkpoint& input, const std::string& out_path, const QuantizeOptions& options,
                                CalibratedTensors* calibrated = nullptr, const GgufTypePlan* plan = nullptr);

// general.name for an output made from `path` when none is given: its file
// name without the extension (a folder's own name), or "model".
std::string default_model_name(const std::string& path);

// Per output type: count, parameters, bytes, bits per weight.
struct QuantizeTypeSummary {
  DType type;
  int64_t tensors = 0;
  int64_t parameters = 0;
  uint64_t bytes = 0;
  double bits_per_weight() const { return parameters ? 8.0 * static_cast<double>(bytes) / parameters : 0.0; }
};
std::vector<QuantizeTypeSummary> summarize_by_type(const QuantizeReport& report);

}  // namespace lmpack
