#include "model/random_model.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/atomic_file.h"
#include "core/atomic_folder.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/parallel.h"
#include "core/progress.h"
#include "formats/format_sizes.h"
#include "io/safetensors.h"
#include "model/hf_config.h"
#include "model/hf_names.h"
#include "model/save_hf.h"
#include "model/tensor_names.h"

namespace lmpack {
namespace {

constexpr int64_t kChunk = int64_t{1} << 16;     // values per independent PRNG stream
constexpr int64_t kChunksPerWrite = 64;          // 4M values handed to the writer at once
const float kAmplitude = 0.02f * std::sqrt(3.0f);  // uniform [-a, a) has std 0.02

// xoshiro256+ (Blackman & Vigna), seeded through splitmix64.
class Xoshiro {
 public:
  explicit Xoshiro(uint64_t seed) {
    for (uint64_t& w : s_) w = splitmix64_next(seed);
  }
  uint64_t next() {
    const uint64_t result = s_[0] + s_[3];
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = (s_[3] << 45) | (s_[3] >> 19);
    return result;
  }
  float uniform_pm(float a) {  // [-a, a)
    const float u = static_cast<float>(next() >> 40) * 0x1p-24f;
    return (2.0f * u - 1.0f) * a;
  }

 private:
  uint64_t s_[4];
};

Xoshiro chunk_stream(uint64_t seed, uint64_t name_key, int64_t chunk) {
  uint64_t s = seed ^ name_key;
  uint64_t mixed = splitmix64_next(s) ^ (static_cast<uint64_t>(chunk) * 0xd1b54a32d192ed03ull);
  return Xoshiro(mixed);
}

enum class Fill { kRandom, kOnes, kAroundOne };  // matrices and biases; norms; q/k norms

struct RandomTensor {
  std::string canonical;
  std::vector<int64_t> shape;
  Fill fill;
};

std::vector<RandomTensor> tensor_list(const ModelConfig& c) {
  std::vector<RandomTensor> t;
  // Gemma's norms are stored as scale - 1: random around 1 so that the offset shows.
  const Fill norm = hf_norm_offset(c.architecture) != 0.0f ? Fill::kAroundOne : Fill::kOnes;
  t.push_back({"token_embd.weight", {c.vocab_size, c.dim}, Fill::kRandom});
  t.push_back({"output_norm.weight", {c.dim}, norm});
  if (!c.tied_embeddings) t.push_back({"output.weight", {c.vocab_size, c.dim}, Fill::kRandom});
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const std::string b = cat("blk.", l, ".");
    t.push_back({b + "attn_norm.weight", {c.dim}, norm});
    const bool fused = hf_fused_projections(c.architecture);  // Phi-3: q, k, v in one matrix, gate and up in one
    if (fused) {
      t.push_back({b + "attn_qkv.weight", {c.q_dim() + 2 * c.kv_dim(), c.dim}, Fill::kRandom});
    } else {
      t.push_back({b + "attn_q.weight", {c.q_dim(), c.dim}, Fill::kRandom});
      t.push_back({b + "attn_k.weight", {c.kv_dim(), c.dim}, Fill::kRandom});
      t.push_back({b + "attn_v.weight", {c.kv_dim(), c.dim}, Fill::kRandom});
    }
    if (c.attn_qkv_bias) {
      t.push_back({b + "attn_q.bias", {c.q_dim()}, Fill::kRandom});
      t.push_back({b + "attn_k.bias", {c.kv_dim()}, Fill::kRandom});
      t.push_back({b + "attn_v.bias", {c.kv_dim()}, Fill::kRandom});
    }
    if (c.attn_qk_norm) {
      t.push_back({b + "attn_q_norm.weight", {c.head_dim}, Fill::kAroundOne});
      t.push_back({b + "attn_k_norm.weight", {c.head_dim}, Fill::kAroundOne});
    }
    t.push_back({b + "attn_output.weight", {c.dim, c.q_dim()}, Fill::kRandom});
    if (c.post_norms) t.push_back({b + "post_attention_norm.weight", {c.dim}, norm});
    t.push_back({b + "ffn_norm.weight", {c.dim}, norm});
    if (c.is_moe()) {  // the router, then each expert's gate, up, down
      t.push_back({router_tensor_name(l), {c.n_experts, c.dim}, Fill::kRandom});
      for (int64_t e = 0; e < c.n_experts; ++e) {
        t.push_back({expert_tensor_name(l, "ffn_gate_exps", e), {c.expert_hidden_dim, c.dim}, Fill::kRandom});
        t.push_back({expert_tensor_name(l, "ffn_up_exps", e), {c.expert_hidden_dim, c.dim}, Fill::kRandom});
        t.push_back({expert_tensor_name(l, "ffn_down_exps", e), {c.dim, c.expert_hidden_dim}, Fill::kRandom});
      }
    } else if (fused) {
      t.push_back({b + "ffn_gate_up.weight", {2 * c.hidden_dim, c.dim}, Fill::kRandom});
    } else {
      t.push_back({b + "ffn_gate.weight", {c.hidden_dim, c.dim}, Fill::kRandom});
      t.push_back({b + "ffn_up.weight", {c.hidden_dim, c.dim}, Fill::kRandom});
    }
    if (!c.is_moe()) t.push_back({b + "ffn_down.weight", {c.dim, c.hidden_dim}, Fill::kRandom});
    if (c.post_norms) t.push_back({b + "post_ffw_norm.weight", {c.dim}, norm});
  }
  return t;
}

}  // namespace

float random_model_value(uint64_t seed, const std::string& hf_name, int64_t index) {
  Xoshiro rng = chunk_stream(seed, fnv1a64(hf_name.data(), hf_name.size()), index / kChunk);
  float v = 0.0f;
  for (int64_t i = 0; i <= index % kChunk; ++i) v = rng.uniform_pm(kAmplitude);
  return v;
}

ModelConfig llama7b_shaped_config(int64_t n_layers) {
  ModelConfig c;
  c.dim = 4096;
  c.hidden_dim = 11008;
  c.n_layers = n_layers;
  c.n_heads = 32;
  c.n_kv_heads = 32;
  c.head_dim = 128;
  c.vocab_size = 32000;
  c.context_length = 4096;
  c.rms_eps = 1e-5f;
  c.tied_embeddings = false;
  return c;
}

void write_random_model(const RandomModelSpec& spec, const std::string& out_dir) {
  const DType dtype = spec.dtype;
  if (dtype != DType::F32 && dtype != DType::F16 && dtype != DType::BF16)
    throw Error(out_dir, cat("random model dtype ", dtype_name(dtype), " is not supported (f32, f16, bf16)"));
  if (!(spec.init_std > 0.0f) || !(spec.init_std <= 10.0f))
    throw Error(out_dir, cat("random model init_std ", spec.init_std, " is outside (0, 10]"));
  const float amplitude = kAmplitude * (spec.init_std / 0.02f);
  const float norm_offset = hf_norm_offset(spec.config.architecture);
  spec.config.validate(out_dir);
  HfConfigExtras extras;
  extras.torch_dtype = dtype;
  const std::string config_text = hf_config_to_json(spec.config, extras);

  std::vector<RandomTensor> list = tensor_list(spec.config);
  std::vector<SafetensorsEntry> entries;
  int64_t total = 0;
  for (const RandomTensor& t : list) {
    std::optional<std::string> hf = canonical_to_hf_name(t.canonical, spec.config.architecture);
    LMPACK_CHECK(hf.has_value(), t.canonical);
    entries.push_back({*hf, dtype, t.shape});
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    total += n;
  }

  AtomicFolder folder(out_dir, hf_output_files());
  const std::string st_path = folder.file("model.safetensors");
  Progress progress("random model", total, "values");
  int64_t done = 0;

  const size_t elem = dtype_bytes(dtype, 1);
  std::vector<float> values(static_cast<size_t>(kChunk * kChunksPerWrite));
  std::vector<uint8_t> bytes(values.size() * elem);
  auto produce = [&](size_t index, SafetensorsSink& sink) {
    throw_if_interrupted();
    const RandomTensor& t = list[index];
    const uint64_t key = fnv1a64(entries[index].name.data(), entries[index].name.size());
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    for (int64_t first = 0; first < n; first += kChunk * kChunksPerWrite) {
      const int64_t m = std::min(n - first, kChunk * kChunksPerWrite);
      const int64_t chunks = (m + kChunk - 1) / kChunk;
      parallel_for(chunks, [&](int64_t c) {
        const int64_t begin = c * kChunk;
        const int64_t count = std::min(kChunk, m - begin);
        float* out = values.data() + begin;
        if (t.fill == Fill::kOnes) {
          std::fill(out, out + count, 1.0f - norm_offset);
        } else {
          Xoshiro rng = chunk_stream(spec.seed, key, (first + begin) / kChunk);
          if (t.fill == Fill::kAroundOne) {  // a scale around 1, stored as HF stores it
            for (int64_t i = 0; i < count; ++i) out[i] = 1.0f + rng.uniform_pm(0.5f) - norm_offset;
          } else {
            for (int64_t i = 0; i < count; ++i) out[i] = rng.uniform_pm(amplitude);
          }
        }
        encode_f32_to(bytes.data() + begin * elem, out, count, dtype, entries[index].name);
      });
      sink.write(bytes.data(), static_cast<size_t>(m) * elem);
      done += m;
      progress.update(done);
    }
  };

  write_safetensors(st_path, entries, produce, {{"format", "pt"}});
  AtomicFile config(folder.file("config.json"));
  config.write(config_text);
  config.commit();
  folder.commit();
  progress.finish();
}

}  // namespace lmpack
