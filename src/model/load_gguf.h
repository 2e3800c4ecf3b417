// GGUF -> Checkpoint, split from load_gguf_checkpoint() (model/loaders.h) so
// that an already parsed GgufFile (read_gguf, or parse_gguf over bytes in
// memory, as the corruption tests do) can be turned into a model.
//
// Supported general.architecture values: "llama" (Llama 1/2/3, Mistral),
// "qwen2" (q/k/v biases) and "qwen3" (per-head q/k norms). Tensor names are GGUF's own, which are lmpack's
// canonical names (model/checkpoint.h). Shapes are not validated here;
// load_checkpoint() runs validate_checkpoint() on the result.
#pragma once

#include "io/gguf.h"
#include "model/checkpoint.h"

namespace lmpack {

// Takes the parsed file; its mapping (if any) goes into keep_alive.
Checkpoint checkpoint_from_gguf(GgufFile gguf);

}  // namespace lmpack
