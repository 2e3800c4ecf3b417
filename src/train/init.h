// A fresh model to train: the initialisation of GPT-2 / llama2.c's
// train.py, which the Llama-family small models follow: every matrix (and
// the embedding) ~ N(0, 0.02), the two projections that write into the
// residual stream (attn_output, ffn_down) ~ N(0, 0.02 / sqrt(2 n_layers)),
// norm weights 1, biases 0. Deterministic: a seed gives the same bits.
#pragma once

#include <cstdint>

#include "train/parameters.h"

namespace lmpack {

TrainableModel init_trainable(const ModelConfig& config, uint64_t seed);

}  // namespace lmpack
