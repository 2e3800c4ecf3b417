// Text generation: encode a prompt, run it through the forward pass as one
// sequence, then sample one token per step, handing each new piece of text to
// a callback as soon as it is known.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "runtime/forward.h"
#include "tokenizer/tokenizer.h"

namespace lmpack {

struct GenerateOptions {
  int64_t max_new_tokens = 256;
  float temperature = 0.0f;  // <= 0: greedy
  float top_p = 0.9f;        // nucleus mass, used when temperature > 0
  uint64_t seed = 0;
  bool stop_at_eos = true;   // stop on the vocabulary's EOS or BOS token
};

struct GenerateStats {
  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;  // including a final EOS/BOS, which is not printed
  double prompt_seconds = 0.0;
  double generation_seconds = 0.0;
  double prompt_tokens_per_s = 0.0;
  double generation_tokens_per_s = 0.0;
  std::vector<int32_t> tokens;  // prompt ids (with BOS) followed by the generated ids
};

// Positions a generation run can reach: the prompt plus max_new_tokens,
// at most the model's context (and at least 1). Size the forward pass with it.
int64_t generation_context(const ModelConfig& config, int64_t prompt_tokens, int64_t max_new_tokens);

using PieceCallback = std::function<void(std::string_view piece)>;

// Resets `forward`, encodes `prompt` (with BOS), and generates up to
// max_new_tokens or until the context is full. on_piece may be empty.
// Throws Error("prompt", ...) when the prompt does not fit the context.
GenerateStats generate(ForwardPass& forward, const Tokenizer& tokenizer, std::string_view prompt,
                       const GenerateOptions& options, const PieceCallback& on_piece = {});

// The same on token ids: prompt_ids as given (no BOS added); on_token gets
// every generated id. eos_id / bos_id < 0: none.
GenerateStats generate_tokens(ForwardPass& forward, const std::vector<int32_t>& prompt_ids,
                              const GenerateOptions& options, int32_t eos_id, int32_t bos_id,
                              const std::function<void(int32_t)>& on_token = {});

}  // namespace lmpack
