// Which GGUF tensor type each tensor of a Llama model gets: the TYPE argument
// of `lmpack quantize` (one tensor type, or one of llama.cpp's named mixes
// such as Q4_K_M), the per-tensor rules of llama.cpp's llama_tensor_get_type
// for the llama architecture (src/llama-quant.cpp, ggml-org/llama.cpp at
// 007dbbf3fd17eefe9b47fee45f48f7ba5e62b714), user overrides (--tensor-type,
// --output-type, --token-embedding-type, --pure) and the fallback when a row
// length is not a multiple of the chosen type's block size.
//
// Pure data decisions: nothing here reads or writes tensor bytes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "model/config.h"

namespace lmpack {

// llama.cpp's enum llama_ftype, written as general.file_type.
enum class LlamaFileType : uint32_t {
  kAllF32 = 0,
  kMostlyF16 = 1,
  kMostlyQ4_0 = 2,
  kMostlyQ4_1 = 3,
  kMostlyQ8_0 = 7,
  kMostlyQ5_0 = 8,
  kMostlyQ5_1 = 9,
  kMostlyQ2_K = 10,
  kMostlyQ3_K_S = 11,
  kMostlyQ3_K_M = 12,
  kMostlyQ3_K_L = 13,
  kMostlyQ4_K_S = 14,
  kMostlyQ4_K_M = 15,
  kMostlyQ5_K_S = 16,
  kMostlyQ5_K_M = 17,
  kMostlyQ6_K = 18,
  kMostlyIQ4_NL = 25,
  kMostlyBF16 = 32,
};

// A parsed TYPE argument.
struct QuantizeType {
  std::string name;         // canonical spelling: "Q4_K_M" for a mix, "q4_K" for a tensor type
  LlamaFileType file_type;  // general.file_type to write
  DType base;               // llama_ftype_get_default_type(file_type)
  bool is_mix = true;       // false: one tensor type for every 2-D weight (as --pure)
};

// Case-insensitive. A name that is a named mix is the mix (so "q4_0" and
// "Q4_0" both mean llama.cpp's Q4_0 mix, whose output.weight is Q6_K; add
// --pure for one type everywhere). q3_k, q4_k and q5_k name no mix and mean
// that tensor type for every 2-D weight, with the file_type llama.cpp's loader
// would guess (Q3_K_M, Q4_K_M, Q5_K_M). Unknown names throw
// Error(option, "unknown type 'x' (valid: ...)").
QuantizeType parse_quantize_type(const std::string& option, const std::string& text);

// One tensor type (f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q2_k q3_k q4_k q5_k
// q6_k iq4_nl), case-insensitive, for --output-type, --tensor-type and the like.
DType parse_tensor_type(const std::string& option, const std::string& text);

std::string valid_mix_names();          // "Q2_K, Q3_K_S, ..."
std::string valid_tensor_type_names();  // "f32, f16, ..."

// --tensor-type REGEX=TYPE: ECMAScript regex searched in the tensor name;
// the first matching override wins (llama.cpp's --tensor-type).
struct TensorTypeOverride {
  std::string pattern;
  std::regex regex;
  DType type;
};

// Throws Error(option, ...) for a bad regex or type.
TensorTypeOverride make_tensor_type_override(const std::string& option, const std::string& pattern,
                                             const std::string& type);
// "REGEX=TYPE" split at the last '='; Error(option, ...) when there is none.
std::pair<std::string, std::string> split_tensor_type_argument(const std::string& option, const std::string& argument);

struct MixOptions {
  QuantizeType type;
  std::vector<TensorTypeOverride> overrides;
  std::optional<DType> output_type;
  std::optional<DType> token_embedding_type;
  bool pure = false;
  bool has_imatrix = false;  // a few rules change with an imatrix (ffn_down of Q4_0/Q5_0, IQ4_NL)
  // Types chosen tensor by tensor (a bit allocation, pipeline/bit_allocation.h),
  // by exact name: they win over every rule above for the tensors they name
  // (which must be matrices the mix quantizes); the row fallback still applies.
  std::map<std::string, DType> assigned;
};

struct MixTensor {
  std::string name;
  std::vector<int64_t> shape;  // row-major, innermost (the row) last
};

struct MixChoice {
  std::string name;
  DType type = DType::F32;
  DType wanted = DType::F32;  // the rules' choice before the fallback
  bool quantizable = false;   // a weight matrix the mix decides; false: kept F32 (norms, 1-D)
  bool fallback = false;      // the rule's type did not fit the row and a fallback was used
  std::string note;           // fallback or override explanation, "" when none
};

// One choice per tensor, in the same order. Tensors are visited in llama.cpp's
// order (see sort_like_llama_cpp) so that its per-layer counters agree.
std::vector<MixChoice> choose_tensor_types(const MixOptions& options, const ModelConfig& config,
                                           const std::vector<MixTensor>& tensors);

// llama.cpp's tensor order (llama_model_loader::weight_name_comparer): names
// without "blk.N." first, then by layer N; by name within each group.
bool llama_cpp_tensor_less(const std::string& a, const std::string& b);

// The type that fits `cols` when `type` does not: Q2_K/Q3_K -> Q4_0,
// Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0 (llama.cpp's tensor_type_fallback),
// then F16 if that still does not fit (or for a type llama.cpp has no
// fallback for, where llama.cpp refuses). Returns `type` when it fits.
DType fallback_type(DType type, int64_t cols);

}  // namespace lmpack
