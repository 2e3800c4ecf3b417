// Picking the next token from logits: greedy (argmax, lowest id on ties),
// temperature sampling, and top-p (nucleus) sampling, driven by a small
// seeded generator (splitmix64) so a seed always gives the same tokens.
#pragma once

#include <cstdint>
#include <vector>

namespace lmpack {

// splitmix64: deterministic per seed, the same on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next_u64();
  float next_float();  // uniform in [0, 1), 24 random bits

 private:
  uint64_t state_;
};

struct SamplerOptions {
  float temperature = 0.0f;  // <= 0: greedy
  float top_p = 1.0f;        // nucleus mass in (0, 1]; >= 1 samples the full distribution
  uint64_t seed = 0;
};

// Index of the largest value; the lowest index wins ties. logits: [n].
int32_t sample_argmax(const float* logits, int64_t n);

class Sampler {
 public:
  // Throws Error("sampling.top_p", ...) / Error("sampling.temperature", ...) for values out of range.
  explicit Sampler(SamplerOptions options);
  // Picks a token; logits: [n], not modified.
  int32_t sample(const float* logits, int64_t n);
  const SamplerOptions& options() const { return options_; }

 private:
  SamplerOptions options_;
  Rng rng_;
  std::vector<float> probs_;                    // [n]
  std::vector<std::pair<float, int32_t>> candidates_;  // top-p: (prob, id) kept
};

}  // namespace lmpack
