// Writing a Checkpoint as a GGUF file that llama.cpp loads: the model
// metadata (general.*, <arch>.* hyperparameters, tokenizer.ggml.*), the plan
// of which tensors go in under which names and in which row order, and a plain
// float converter (F32/F16/BF16). The quantizing converter (pipeline/) uses
// the same metadata and plan and only chooses other tensor types.
//
// Names: lmpack's canonical tensor names are GGUF's own (model/checkpoint.h).
// Row order: the internal q/k layout is adjacent-pair RoPE, which is what
// llama.cpp's "llama" architecture (LLAMA_ROPE_TYPE_NORM) expects, so llama
// files need no permutation: the Hugging Face loader already undid HF's
// rotate-half order, as llama.cpp's converter does. llama.cpp runs "qwen2"
// with NEOX RoPE (rotate-half) and its converter copies Qwen2's q/k rows
// unpermuted, so for qwen2 the q/k rows (and biases) go back to halves; so
// does "qwen3", whose per-head q/k norm weights go back to halves as well.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "io/gguf_writer.h"
#include "model/checkpoint.h"

namespace lmpack {

// llama.cpp's llama_ftype (llama.h), written as general.file_type.
namespace llama_ftype {
constexpr uint32_t kAllF32 = 0;
constexpr uint32_t kMostlyF16 = 1;
constexpr uint32_t kQ4_0 = 2;
constexpr uint32_t kQ4_1 = 3;
constexpr uint32_t kQ8_0 = 7;
constexpr uint32_t kQ5_0 = 8;
constexpr uint32_t kQ5_1 = 9;
constexpr uint32_t kQ2_K = 10;
constexpr uint32_t kQ3_K_S = 11;
constexpr uint32_t kQ3_K_M = 12;
constexpr uint32_t kQ3_K_L = 13;
constexpr uint32_t kQ4_K_S = 14;
constexpr uint32_t kQ4_K_M = 15;
constexpr uint32_t kQ5_K_S = 16;
constexpr uint32_t kQ5_K_M = 17;
constexpr uint32_t kQ6_K = 18;
constexpr uint32_t kIQ4_NL = 25;
constexpr uint32_t kBF16 = 32;
}  // namespace llama_ftype

constexpr uint32_t kGgufQuantizationVersion = 2;  // ggml's GGML_QNT_VERSION

// The file type of a file whose matrices are all `type` (F32, F16, BF16,
// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q6_K, IQ4_NL). Other k-quants only exist as
// named mixes: Error("<type>", ...) for them.
uint32_t llama_ftype_of(DType type);

// "gemma3" for a model with post-norms and q/k norms (llama.cpp's gemma3:
// the windowed layers' RoPE base as rope.freq_base_swa), "gemma2" for a model
// with post-norms (llama.cpp's gemma2: GeGLU, scaled
// embedding, soft-caps, every other layer windowed; norms stored as the
// scale, as its converter writes them), "qwen3" for a model with per-head
// q/k norms (llama.cpp's qwen3), "qwen2"
// for one with q/k/v biases whose query width is the hidden size (llama.cpp's
// qwen2 takes no other), else "llama" (Llama 1/2/3, Mistral, and a Qwen2
// whose heads were cut: llama.cpp's llama takes q/k/v biases of any width).
std::string gguf_architecture(const ModelConfig& config);

// True when llama.cpp runs the architecture with rotate-half ("NEOX") RoPE
// on q/k rows as Hugging Face stores them (qwen2, qwen3, gemma2).
bool gguf_rope_halves(const std::string& gguf_arch);

// The attention scale llama.cpp's gemma2 / gemma3 derives from the shape (no
// key holds it): 1/sqrt(dim / heads) for the 27B's layer count (46 / 62),
// else 1/sqrt(head_dim).
float gemma_attention_scale(const std::string& gguf_arch, int64_t n_layers, int64_t dim, int64_t n_heads,
                            int64_t head_dim);

// Writes every metadata key llama.cpp reads for the model: general.*,
// <arch>.* hyperparameters, tokenizer.ggml.*. A vocabulary shorter than the
// embedding is padded with "[PAD<id>]" tokens (unused), as llama.cpp's
// converter does. Throws Error(ckpt.path, ...) for a checkpoint without a
// vocabulary or with one that does not fit (sizes, special ids).
void add_model_metadata(GgufWriter& w, const Checkpoint& ckpt, uint32_t file_type, const std::string& model_name);

// Per-frequency RoPE factors [head_dim / 2] as llama.cpp's converter
// computes them for Llama 3 scaling (written as rope_freqs.weight, F32;
// llama.cpp divides each frequency by its factor). All 1 without scaling.
std::vector<float> llama3_rope_freq_factors(const ModelConfig& config);

// One tensor of the output file.
struct GgufTensorSource {
  std::string name;             // GGUF name
  std::vector<int64_t> shape;   // row-major, as written
  // The checkpoint's tensor (the first part when stacked); nullptr for a
  // 1-D tensor computed from the config (`values`).
  const TensorInfo* tensor;
  bool rope_halves = false;     // rows (or, for a bias, elements) go to rotate-half order per head
  // The checkpoint tensors whose rows, stacked, make this one (all of one
  // dtype): Phi-3's ffn_up (gate, then up), a mixture of experts'
  // ffn_*_exps (expert 0, 1, ...); empty for a tensor of one part.
  std::vector<const TensorInfo*> stacked;
  std::vector<float> values;    // rope_freqs, rope_factors_short/long: computed from the config
  bool is_matrix() const { return shape.size() >= 2; }
  int64_t rows() const {  // every dimension but the last (a 3-D expert stack: experts x rows)
    int64_t r = 1;
    for (size_t i = 0; i + 1 < shape.size(); ++i) r *= shape[i];
    return r;
  }
  // The checkpoint tensors in row order: stacked, or {tensor}, or none.
  std::vector<const TensorInfo*> parts() const {
    if (!stacked.empty()) return stacked;
    return tensor != nullptr ? std::vector<const TensorInfo*>{tensor} : std::vector<const TensorInfo*>{};
  }
};

// The tensors of the output file in writing order: token_embd, rope_freqs
// (when the checkpoint has one or the config has llama3 scaling), each block,
// output_norm, output (absent when tied). Throws Error(ckpt.path, ...) for a
// tensor llama.cpp would not load.
std::vector<GgufTensorSource> gguf_tensor_plan(const Checkpoint& ckpt);

// Decodes rows [row0, row0 + n_rows) of the tensor as it is to be written
// (rope_halves applied) into dst [n_rows, cols] floats. A 1-D tensor is one
// row. Throws Error("<dtype>", ...) for a type that cannot be decoded.
void gguf_read_rows(float* dst, const GgufTensorSource& t, const ModelConfig& config, int64_t row0,
                    int64_t n_rows);

// The float converter: matrices become `type` (F32, F16 or BF16), 1-D tensors
// (norms, biases, rope_freqs) stay F32 as in llama.cpp's converter. Tensors
// already of the target type are copied bit for bit. general.name is
// model_name, or else the input's file or folder name; ckpt.recipe, when set, is written as
// lmpack.recipe. Throws Error(path, ...) for another type, and
// whatever validate_checkpoint / add_model_metadata throw; nothing is left at
// `path` on failure.
void save_gguf(const Checkpoint& ckpt, const std::string& path, DType type, const std::string& model_name = "");

}  // namespace lmpack
