#include "model/save_hf.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/atomic_file.h"
#include "core/atomic_folder.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/progress.h"
#include "formats/decode.h"
#include "formats/format_sizes.h"
#include "io/safetensors.h"
#include "model/fused_projections.h"
#include "model/hf_config.h"
#include "model/hf_tokenizer_export.h"
#include "model/hf_names.h"
#include "model/loaders.h"
#include "model/rope_layout.h"
#include "model/tensor_names.h"

namespace lmpack {
namespace {

constexpr int64_t kChunkElements = int64_t{1} << 20;  // rows decoded at a time, about this many values
constexpr int64_t kParallelBlock = 1 << 14;

// One output tensor: where its values come from and how its rows move.
struct Planned {
  const TensorInfo* src;
  int64_t rope_heads = 0;  // > 0: rows are RoPE'd, permute to halves per head
  float offset = 0.0f;     // taken from every value (Gemma's norms: stored as scale - 1)
};

// Runs fn(begin, end) over [0, n) in blocks across the thread team.
template <typename Fn>
void blocks(int64_t n, Fn&& fn) {
  const int64_t nb = (n + kParallelBlock - 1) / kParallelBlock;
  if (nb <= 1) {
    fn(int64_t{0}, n);
    return;
  }
  parallel_for(nb, [&](int64_t b) { fn(b * kParallelBlock, std::min(n, (b + 1) * kParallelBlock)); });
}

// Decodes elements [first, first + n) of `t` into dst.
void decode_range(float* dst, const TensorInfo& t, int64_t first, int64_t n) {
  const uint8_t* src = t.data + dtype_bytes(t.dtype, first);
  switch (t.dtype) {
    case DType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * 4);
      return;
    case DType::F16:
      blocks(n, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          uint16_t h;
          std::memcpy(&h, src + 2 * i, 2);
          dst[i] = fp16_to_f32(h);
        }
      });
      return;
    case DType::BF16:
      blocks(n, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          uint16_t h;
          std::memcpy(&h, src + 2 * i, 2);
          dst[i] = bf16_to_f32(h);
        }
      });
      return;
    default:
      decode_to_f32(dst, src, t.dtype, n);
  }
}

}  // namespace

void encode_f32_to(void* dst, const float* src, int64_t n, DType dtype, const std::string& tensor) {
  auto* out = static_cast<uint8_t*>(dst);
  switch (dtype) {
    case DType::F32:
      std::memcpy(out, src, static_cast<size_t>(n) * 4);
      return;
    case DType::F16: {
      std::atomic<int64_t> overflow{n};  // first finite value that became an infinity
      blocks(n, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          uint16_t h = f32_to_fp16(src[i]);
          if ((h & 0x7fffu) == 0x7c00u && std::isfinite(src[i])) {
            int64_t seen = overflow.load();
            while (i < seen && !overflow.compare_exchange_weak(seen, i)) {
            }
          }
          std::memcpy(out + 2 * i, &h, 2);
        }
      });
      if (const int64_t i = overflow.load(); i < n)
        throw Error(tensor, cat("value ", src[i], " at element ", i, " exceeds the range of F16 (+-65504); "
                                "keep this tensor in F32 or BF16"));
      return;
    }
    case DType::BF16:
      blocks(n, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          uint16_t h = f32_to_bf16(src[i]);
          std::memcpy(out + 2 * i, &h, 2);
        }
      });
      return;
    default:
      LMPACK_CHECK(false, cat("encode_f32_to: unsupported dtype ", dtype_name(dtype)));
  }
}

void save_hf(const Checkpoint& ckpt, const std::string& out_dir, DType dtype) {
  if (dtype != DType::F32 && dtype != DType::F16 && dtype != DType::BF16)
    throw Error(out_dir, cat("output dtype ", dtype_name(dtype), " is not supported for Hugging Face (f32, f16, bf16)"));
  validate_checkpoint(ckpt);
  const ModelConfig& c = ckpt.config;
  HfConfigExtras extras;
  extras.torch_dtype = dtype;
  if (ckpt.vocab) {
    extras.bos_token_id = ckpt.vocab->bos_id;
    extras.eos_token_id = ckpt.vocab->eos_id;
  }
  extras.recipe = ckpt.recipe;
  const std::string config_text = hf_config_to_json(c, extras);

  // Plan every tensor before touching the disk. An HF tensor is one canonical
  // tensor, or (Phi-3's qkv_proj, gate_up_proj) several with their rows stacked.
  std::vector<SafetensorsEntry> entries;
  std::vector<std::vector<Planned>> plan;
  const bool fused = hf_fused_projections(c.architecture);
  for (const auto& [name, t] : ckpt.tensors) {
    if (c.tied_embeddings && name == "output.weight") continue;
    if (name == "rope_freqs.weight") {  // GGUF's Llama 3 RoPE factors: HF derives them from rope_scaling
      if (c.rope_scaling.type == RopeScaling::Type::kLlama3) continue;
      throw Error(ckpt.path, "tensor 'rope_freqs.weight' (per-frequency RoPE factors) has no Hugging Face form "
                             "without llama3 rope_scaling in the config");
    }
    auto planned = [&](const TensorInfo& part) {
      const int64_t n = part.n_elements();
      if (n < 0 || !dtype_row_fits(part.dtype, part.cols()) || part.nbytes != dtype_bytes(part.dtype, n))
        throw Error(ckpt.path, cat("tensor '", part.name, "': ", part.nbytes, " bytes do not fit ",
                                   dtype_name(part.dtype), " ", shape_string(part.shape)));
      Planned p{&part};
      p.rope_heads = rope_heads(part.name, c);
      if (is_norm_weight(part.name)) p.offset = hf_norm_offset(c.architecture);
      if (p.rope_heads > 0 && (part.shape.empty() || part.shape[0] != p.rope_heads * c.head_dim))
        throw Error(ckpt.path, cat("tensor '", part.name, "' has shape ", shape_string(part.shape), "; expected ",
                                   p.rope_heads * c.head_dim, " rows"));
      return p;
    };
    FusedProjection f;
    int part = 0;
    if (fused && find_fused_part(name, &f, &part)) {
      if (part != 0) continue;  // written with the first part
      std::vector<Planned> parts;
      std::vector<int64_t> shape = {0, t.cols()};
      for (const std::string& pn : f.parts) {
        const TensorInfo* pt = ckpt.find(pn);
        if (pt == nullptr || pt->shape.size() != 2 || pt->cols() != t.cols())
          throw Error(ckpt.path, cat("tensor '", pn, pt ? "' cannot be stacked with '" : "' is missing beside '", name, "'"));
        parts.push_back(planned(*pt));
        shape[0] += pt->shape[0];
      }
      entries.push_back({*canonical_to_hf_name(f.fused, c.architecture), dtype, shape});
      plan.push_back(std::move(parts));
      continue;
    }
    std::optional<std::string> hf = canonical_to_hf_name(name, c.architecture);
    if (!hf) throw Error(ckpt.path, cat("tensor '", name, "' has no Hugging Face Llama name"));
    entries.push_back({*hf, dtype, t.shape});
    plan.push_back({planned(t)});
  }
  // HF files list tensors by name; keep the data in the same order.
  std::vector<size_t> order(entries.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return entries[a].name < entries[b].name; });
  std::vector<SafetensorsEntry> sorted_entries;
  std::vector<std::vector<Planned>> sorted_plan;
  for (size_t i : order) {
    sorted_entries.push_back(entries[i]);
    sorted_plan.push_back(plan[i]);
  }

  AtomicFolder folder(out_dir, hf_output_files(), {ckpt.path});
  const std::string st_path = folder.file("model.safetensors");
  const std::string config_path = folder.file("config.json");
  int64_t total = 0;
  for (const std::vector<Planned>& parts : sorted_plan)
    for (const Planned& p : parts) total += p.src->n_elements();
  Progress progress("save hf", total, "values");
  int64_t done = 0;

  std::vector<float> values, permuted;
  std::vector<uint8_t> bytes;
  auto produce_part = [&](const Planned& p, SafetensorsSink& sink) {
    const TensorInfo& t = *p.src;
    const int64_t n = t.n_elements();
    if (t.dtype == dtype && p.rope_heads == 0 && p.offset == 0.0f) {  // same bytes: straight from the mapping
      sink.write(t.data, t.nbytes);
      done += n;
      progress.update(done);
      return;
    }
    const int64_t cols = t.shape.size() <= 1 ? 1 : t.cols();
    const int64_t rows = n / std::max<int64_t>(cols, 1);
    int64_t chunk_rows = std::max<int64_t>(1, kChunkElements / std::max<int64_t>(cols, 1));
    if (p.rope_heads > 0) chunk_rows = std::max<int64_t>(1, chunk_rows / c.head_dim) * c.head_dim;
    for (int64_t r0 = 0; r0 < rows; r0 += chunk_rows) {
      const int64_t nr = std::min(chunk_rows, rows - r0);
      const int64_t m = nr * cols;
      values.resize(static_cast<size_t>(m));
      decode_range(values.data(), t, r0 * cols, m);
      for (float& v : values) v -= p.offset;
      const float* ready = values.data();
      if (p.rope_heads > 0) {
        permuted.resize(values.size());
        permute_rope_rows(permuted.data(), values.data(), nr / c.head_dim, c.head_dim,
                          static_cast<size_t>(cols) * sizeof(float), RopeLayout::kAdjacent, c.rotary_dims);
        ready = permuted.data();
      }
      bytes.resize(dtype_bytes(dtype, m));
      encode_f32_to(bytes.data(), ready, m, dtype, t.name);
      sink.write(bytes.data(), bytes.size());
      done += m;
      progress.update(done);
    }
  };
  auto produce = [&](size_t index, SafetensorsSink& sink) {
    throw_if_interrupted();
    for (const Planned& p : sorted_plan[index]) produce_part(p, sink);  // stacked parts: rows in turn
  };

  write_safetensors(st_path, sorted_entries, produce, {{"format", "pt"}});
  AtomicFile config(config_path);
  config.write(config_text);
  config.commit();
  write_hf_tokenizer_files(ckpt, folder);
  folder.commit();
  progress.finish();
}

const std::vector<std::string>& hf_output_files() {
  static const std::vector<std::string> kFiles = [] {
    std::vector<std::string> files = {"config.json", "model.safetensors", "quantize_config.json", "quant_config.json"};
    for (const std::string& name : hf_tokenizer_file_names()) files.push_back(name);
    return files;
  }();
  return kFiles;
}

}  // namespace lmpack
