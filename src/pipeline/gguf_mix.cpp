// Per-tensor type choice, written after llama.cpp's src/llama-quant.cpp
// (llama_tensor_get_type, llama_tensor_get_type_impl, tensor_type_fallback,
// tensor_allows_quantization, llama_ftype_get_default_type) restricted to the
// llama architecture, with the rules for Mixtral's 8 experts (the router,
// ffn_gate_inp, is never quantized). Deviations, all deliberate:
//   - a type without a llama.cpp fallback (Q4_0 on a 172-wide row, say) falls
//     back to F16 instead of refusing, so every model can be written;
//   - --output-type / --token-embedding-type also go through the fallback
//     (llama.cpp writes them unchecked);
//   - tensors that are not quantized (1-D, norms) are written F32 whatever
//     their source type, as llama.cpp's converters write them.
#include "pipeline/gguf_mix.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <numeric>

#include "core/error.h"
#include "core/printable.h"
#include "formats/format_sizes.h"
#include "model/save_gguf.h"
#include "model/tensor_names.h"

namespace lmpack {
namespace {

using FT = LlamaFileType;

struct MixRow {
  const char* name;
  FT file_type;
  DType base;
};

// The named mixes lmpack writes, with llama_ftype_get_default_type's base type.
constexpr std::array kMixes = {
    MixRow{"Q2_K", FT::kMostlyQ2_K, DType::Q2_K},       MixRow{"Q3_K_S", FT::kMostlyQ3_K_S, DType::Q3_K},
    MixRow{"Q3_K_M", FT::kMostlyQ3_K_M, DType::Q3_K},   MixRow{"Q3_K_L", FT::kMostlyQ3_K_L, DType::Q3_K},
    MixRow{"Q4_0", FT::kMostlyQ4_0, DType::Q4_0},       MixRow{"Q4_1", FT::kMostlyQ4_1, DType::Q4_1},
    MixRow{"Q4_K_S", FT::kMostlyQ4_K_S, DType::Q4_K},   MixRow{"Q4_K_M", FT::kMostlyQ4_K_M, DType::Q4_K},
    MixRow{"Q5_0", FT::kMostlyQ5_0, DType::Q5_0},       MixRow{"Q5_1", FT::kMostlyQ5_1, DType::Q5_1},
    MixRow{"Q5_K_S", FT::kMostlyQ5_K_S, DType::Q5_K},   MixRow{"Q5_K_M", FT::kMostlyQ5_K_M, DType::Q5_K},
    MixRow{"Q6_K", FT::kMostlyQ6_K, DType::Q6_K},       MixRow{"Q8_0", FT::kMostlyQ8_0, DType::Q8_0},
    MixRow{"IQ4_NL", FT::kMostlyIQ4_NL, DType::IQ4_NL}, MixRow{"F16", FT::kMostlyF16, DType::F16},
    MixRow{"BF16", FT::kMostlyBF16, DType::BF16},       MixRow{"F32", FT::kAllF32, DType::F32},
};

// Tensor types a user may ask for, and the file_type llama.cpp's loader guesses
// for a file made mostly of that type (llama_model_loader's ftype guess).
struct TypeRow {
  DType type;
  FT guessed_file_type;
};
constexpr std::array kTensorTypes = {
    TypeRow{DType::F32, FT::kAllF32},        TypeRow{DType::F16, FT::kMostlyF16},
    TypeRow{DType::BF16, FT::kMostlyBF16},   TypeRow{DType::Q8_0, FT::kMostlyQ8_0},
    TypeRow{DType::Q4_0, FT::kMostlyQ4_0},   TypeRow{DType::Q4_1, FT::kMostlyQ4_1},
    TypeRow{DType::Q5_0, FT::kMostlyQ5_0},   TypeRow{DType::Q5_1, FT::kMostlyQ5_1},
    TypeRow{DType::Q2_K, FT::kMostlyQ2_K},   TypeRow{DType::Q3_K, FT::kMostlyQ3_K_M},
    TypeRow{DType::Q4_K, FT::kMostlyQ4_K_M}, TypeRow{DType::Q5_K, FT::kMostlyQ5_K_M},
    TypeRow{DType::Q6_K, FT::kMostlyQ6_K},   TypeRow{DType::IQ4_NL, FT::kMostlyIQ4_NL},
};

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool is_block_quantized(DType t) { return dtype_block_elements(t) > 1; }
int64_t block_size(DType t) { return dtype_block_elements(t); }

enum class Category {
  kTokenEmbd,
  kAttnQ,
  kAttnV,
  kAttnK,
  kAttnQkv,
  kAttnKvB,
  kAttnOutput,
  kFfnUp,
  kFfnGate,
  kFfnDown,
  kOutput,
  kOther
};

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// tensor_get_category: the same substring tests in the same order.
Category category_of(const std::string& name) {
  if (name == "output.weight") return Category::kOutput;
  if (name == "token_embd.weight" || name == "per_layer_token_embd.weight") return Category::kTokenEmbd;
  if (contains(name, "attn_qkv.weight")) return Category::kAttnQkv;
  if (contains(name, "attn_kv_b.weight")) return Category::kAttnKvB;
  if (contains(name, "attn_v.weight")) return Category::kAttnV;
  if (contains(name, "attn_k.weight")) return Category::kAttnK;
  if (contains(name, "attn_q.weight")) return Category::kAttnQ;
  if (contains(name, "attn_output.weight")) return Category::kAttnOutput;
  if (contains(name, "ffn_up")) return Category::kFfnUp;
  if (contains(name, "ffn_gate")) return Category::kFfnGate;
  if (contains(name, "ffn_down")) return Category::kFfnDown;
  return Category::kOther;
}

bool is_attn_v_like(Category c) { return c == Category::kAttnV || c == Category::kAttnQkv || c == Category::kAttnKvB; }

// ggml_n_dims: outer dimensions of size 1 do not count.
int n_dims(const std::vector<int64_t>& shape) {
  int n = static_cast<int>(shape.size());
  size_t lead = 0;
  while (n > 1 && shape[lead] == 1) {
    ++lead;
    --n;
  }
  return n;
}

// tensor_allows_quantization for the tensors a llama model can have.
bool allows_quantization(const MixTensor& t) {
  if (n_dims(t.shape) < 2) return false;
  const std::string& name = t.name;
  if (name.size() < 6 || name.compare(name.size() - 6, 6, "weight") != 0) return false;
  if (contains(name, "_norm.weight")) return false;
  if (contains(name, "ffn_gate_inp.weight")) return false;
  if (name == "position_embd.weight" || name == "token_types.weight") return false;
  return true;
}

bool use_more_bits(int i_layer, int n_layers) {
  return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

struct MixState {
  int n_attention_wv = 0;
  int i_attention_wv = 0;
  int n_ffn_down = 0;
  int i_ffn_down = 0;
  int n_gqa = 1;
  bool is_70b = false;
  bool has_tied_embeddings = true;
  int64_t n_expert = 0;  // Mixtral's 8: attn_k/attn_v at Q8_0, attn_output at Q5_K
};

// llama_tensor_get_type_impl for the llama architecture without experts.
DType mix_rule(MixState& qs, const MixOptions& o, DType new_type, const MixTensor& t, Category category) {
  const FT ftype = o.type.file_type;
  if (category == Category::kOutput || (qs.has_tied_embeddings && category == Category::kTokenEmbd)) {
    if (o.output_type) return *o.output_type;
    const int64_t nx = t.shape.back();
    if (nx % block_size(new_type) != 0) return DType::Q8_0;
    if (new_type != DType::Q8_0) return DType::Q6_K;
    return new_type;
  }
  if (category == Category::kTokenEmbd) {
    return o.token_embedding_type ? *o.token_embedding_type : new_type;
  }
  if (is_attn_v_like(category)) {
    if (ftype == FT::kMostlyQ2_K) {
      new_type = qs.n_gqa >= 4 ? DType::Q4_K : DType::Q3_K;
    } else if (ftype == FT::kMostlyQ3_K_M) {
      new_type = qs.i_attention_wv < 2 ? DType::Q5_K : DType::Q4_K;
    } else if (ftype == FT::kMostlyQ3_K_L) {
      new_type = DType::Q5_K;
    } else if (ftype == FT::kMostlyIQ4_NL && qs.n_gqa >= 4) {
      new_type = DType::Q5_K;
    } else if ((ftype == FT::kMostlyQ4_K_M || ftype == FT::kMostlyQ5_K_M) &&
               use_more_bits(qs.i_attention_wv, qs.n_attention_wv)) {
      new_type = DType::Q6_K;
    } else if (ftype == FT::kMostlyQ4_K_S && qs.i_attention_wv < 4) {
      new_type = DType::Q5_K;
    }
    if (qs.is_70b && (new_type == DType::Q3_K || new_type == DType::Q4_K)) new_type = DType::Q5_K;
    if (qs.n_expert == 8) new_type = DType::Q8_0;  // "trades just ~128MB" for the 8-expert model
    ++qs.i_attention_wv;
    return new_type;
  }
  if (category == Category::kAttnK && qs.n_expert == 8) return DType::Q8_0;
  if (category == Category::kFfnDown) {
    const int i_layer = qs.i_ffn_down, n_layer = qs.n_ffn_down;
    if (ftype == FT::kMostlyQ2_K) {
      new_type = DType::Q3_K;
    } else if (ftype == FT::kMostlyQ3_K_M) {
      new_type = i_layer < n_layer / 16 ? DType::Q5_K : DType::Q4_K;  // llama: arch != FALCON
    } else if (ftype == FT::kMostlyQ3_K_L) {
      new_type = DType::Q5_K;
    } else if (ftype == FT::kMostlyQ4_K_M) {
      if (use_more_bits(i_layer, n_layer)) new_type = DType::Q6_K;
    } else if (i_layer < n_layer / 8 && ftype == FT::kMostlyIQ4_NL && !o.has_imatrix) {
      new_type = DType::Q5_K;
    } else if (ftype == FT::kMostlyQ5_K_M && use_more_bits(i_layer, n_layer)) {
      new_type = DType::Q6_K;
    } else if (ftype == FT::kMostlyQ4_K_S && i_layer < n_layer / 8) {
      new_type = DType::Q5_K;
    } else if ((ftype == FT::kMostlyQ4_0 || ftype == FT::kMostlyQ5_0) && o.has_imatrix && i_layer < n_layer / 8) {
      new_type = ftype == FT::kMostlyQ4_0 ? DType::Q4_1 : DType::Q5_1;
    }
    ++qs.i_ffn_down;
    return new_type;
  }
  if (category == Category::kAttnOutput) {
    if (qs.n_expert == 8)
      return ftype == FT::kMostlyQ2_K || ftype == FT::kMostlyQ3_K_S || ftype == FT::kMostlyQ3_K_M ||
                     ftype == FT::kMostlyIQ4_NL || ftype == FT::kMostlyQ4_K_S || ftype == FT::kMostlyQ4_K_M
                 ? DType::Q5_K
                 : new_type;
    if (ftype == FT::kMostlyQ2_K)
      new_type = DType::Q3_K;
    else if (ftype == FT::kMostlyQ3_K_M)
      new_type = DType::Q4_K;
    else if (ftype == FT::kMostlyQ3_K_L)
      new_type = DType::Q5_K;
    return new_type;
  }
  if (category == Category::kAttnQkv) {
    if (ftype == FT::kMostlyQ3_K_M || ftype == FT::kMostlyQ3_K_L)
      new_type = DType::Q4_K;
    else if (ftype == FT::kMostlyQ4_K_M)
      new_type = DType::Q5_K;
    else if (ftype == FT::kMostlyQ5_K_M)
      new_type = DType::Q6_K;
  }
  return new_type;  // attn_q, attn_k, ffn_gate, ffn_up: no change for these mixes
}

int layer_of(const std::string& name) {
  int64_t layer = -1;
  std::string rest;
  return split_block(name, &layer, &rest) ? static_cast<int>(layer) : -1;
}

}  // namespace

std::string valid_mix_names() {
  std::string s;
  for (const MixRow& m : kMixes) s += (s.empty() ? "" : ", ") + std::string(m.name);
  return s;
}

std::string valid_tensor_type_names() {
  std::string s;
  for (const TypeRow& t : kTensorTypes) s += (s.empty() ? "" : ", ") + std::string(dtype_name(t.type));
  return s;
}

DType parse_tensor_type(const std::string& option, const std::string& text) {
  const std::string u = upper(text);
  for (const TypeRow& t : kTensorTypes)
    if (upper(std::string(dtype_name(t.type))) == u) return t.type;
  throw Error(option, cat("unknown tensor type '", printable(text), "' (valid: ", valid_tensor_type_names(), ")"));
}

QuantizeType parse_quantize_type(const std::string& option, const std::string& text) {
  const std::string u = upper(text);
  for (const MixRow& m : kMixes)
    if (u == m.name) return QuantizeType{m.name, m.file_type, m.base, true};
  for (const TypeRow& t : kTensorTypes)
    if (upper(std::string(dtype_name(t.type))) == u)
      return QuantizeType{std::string(dtype_name(t.type)), t.guessed_file_type, t.type, false};
  throw Error(option, cat("unknown type '", printable(text), "' (valid mixes: ", valid_mix_names(),
                          "; or one tensor type: ", valid_tensor_type_names(), ")"));
}

TensorTypeOverride make_tensor_type_override(const std::string& option, const std::string& pattern,
                                             const std::string& type) {
  if (pattern.empty()) throw Error(option, "empty regex before '='");
  // std::regex compiles and matches recursively, expands a counted repetition
  // into copies of its operand, and overflows (UB) on long numbers in {n,m} or
  // back-references: bound the pattern and keep only what tensor names need.
  constexpr size_t kMaxPattern = 256;
  if (pattern.size() > kMaxPattern)
    throw Error(option, cat("regex of ", pattern.size(), " characters; at most ", kMaxPattern));
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '{' || pattern[i] == '}')
      throw Error(option, cat("regex '", printable(pattern), "': counted repetitions {n,m} are not supported "
                              "(tensor names need +, * and ?)"));
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      if (pattern[i + 1] >= '0' && pattern[i + 1] <= '9')
        throw Error(option, cat("regex '", printable(pattern), "': back-references are not supported"));
      ++i;  // an escaped character
    }
  }
  TensorTypeOverride o;
  o.pattern = pattern;
  o.type = parse_tensor_type(option, type);
  try {
    o.regex = std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw Error(option, cat("bad regex '", printable(pattern), "': ", e.what()));
  }
  return o;
}

std::pair<std::string, std::string> split_tensor_type_argument(const std::string& option, const std::string& argument) {
  const size_t eq = argument.rfind('=');
  if (eq == std::string::npos) throw Error(option, cat("expected REGEX=TYPE, got '", printable(argument), "'"));
  return {argument.substr(0, eq), argument.substr(eq + 1)};
}

DType fallback_type(DType type, int64_t cols) {
  if (dtype_row_fits(type, cols)) return type;
  DType r = DType::F16;
  switch (type) {
    case DType::Q2_K:
    case DType::Q3_K:
      r = DType::Q4_0;
      break;
    case DType::Q4_K:
      r = DType::Q5_0;
      break;
    case DType::Q5_K:
      r = DType::Q5_1;
      break;
    case DType::Q6_K:
      r = DType::Q8_0;
      break;
    default:
      r = DType::F16;
      break;
  }
  if (!dtype_row_fits(r, cols)) r = DType::F16;
  return r;
}

bool llama_cpp_tensor_less(const std::string& a, const std::string& b) {
  const int la = layer_of(a), lb = layer_of(b);
  if (la != lb) return la < lb;
  return a < b;
}

std::vector<MixChoice> choose_tensor_types(const MixOptions& options, const ModelConfig& config,
                                           const std::vector<MixTensor>& tensors) {
  MixState qs;
  for (const MixTensor& t : tensors) {
    const Category c = category_of(t.name);
    if (is_attn_v_like(c)) ++qs.n_attention_wv;
    if (c == Category::kOutput) qs.has_tied_embeddings = false;
  }
  qs.n_ffn_down = static_cast<int>(config.n_layers);
  qs.n_gqa = config.n_kv_heads > 0 ? static_cast<int>(config.n_heads / config.n_kv_heads) : 1;
  qs.is_70b = config.n_layers == 80 && config.n_heads != config.n_kv_heads;
  qs.n_expert = config.n_experts;

  // Visit in llama.cpp's order; answer in the caller's.
  std::vector<size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return llama_cpp_tensor_less(tensors[a].name, tensors[b].name); });

  const DType base = options.type.base;
  const bool base_quantized = is_block_quantized(base);
  const bool pure = options.pure || !options.type.is_mix;
  std::vector<MixChoice> out(tensors.size());
  for (size_t idx : order) {
    const MixTensor& t = tensors[idx];
    MixChoice& choice = out[idx];
    choice.name = t.name;
    if (!allows_quantization(t)) {
      choice.type = choice.wanted = DType::F32;
      continue;
    }
    choice.quantizable = true;
    const Category c = category_of(t.name);
    DType type = base;
    if (auto it = options.assigned.find(t.name); it != options.assigned.end()) {
      type = it->second;
      choice.note = cat("allocated ", dtype_name(type));
    } else if (options.token_embedding_type && c == Category::kTokenEmbd) {
      type = *options.token_embedding_type;
      choice.note = cat("token_embedding_type ", dtype_name(type));
    } else if (options.output_type && c == Category::kOutput) {
      type = *options.output_type;
      choice.note = cat("output_type ", dtype_name(type));
    } else if (base_quantized) {
      bool manual = false;
      for (const TensorTypeOverride& o : options.overrides) {
        if (std::regex_search(t.name, o.regex)) {
          type = o.type;
          manual = true;
          choice.note = cat("tensor_types ", o.pattern, "=", dtype_name(o.type));
          break;
        }
      }
      if (!manual && !pure) type = mix_rule(qs, options, type, t, c);
    }
    const int64_t cols = t.shape.back();
    const DType fitted = fallback_type(type, cols);
    choice.wanted = type;
    if (fitted != type) {
      choice.fallback = true;
      std::string why = cat(t.name, ": ", cols, " columns fit no ", dtype_name(type), " block of ", block_size(type),
                            ", using ", dtype_name(fitted));
      choice.note = choice.note.empty() ? why : cat(choice.note, "; ", why);
    }
    choice.type = fitted;
  }
  return out;
}

}  // namespace lmpack
