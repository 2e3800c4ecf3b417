// Training text as one stream of token ids, and the batches drawn from it.
//
// Each file is split into documents at `separator` (TinyStories' files use
// "<|endoftext|>"; "" : a file is one document); each non-empty document is
// tokenized with a BOS (when the vocabulary has one) and appended, so that a
// window that crosses a document boundary sees BOS there, as in llama2.c's
// and nanoGPT's pretokenized streams.
//
// A batch of step s holds `batch` windows of seq + 1 consecutive tokens
// (inputs: the first seq, targets: the last seq); window b's start is a
// hash of (seed, s, b), so that any step's batch is known without drawing
// the ones before it: a resumed run sees exactly the batches it would have.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace lmpack {

// Streams beyond this many tokens are refused (2^31: ids index an int32 space
// and the stream is held in memory).
inline constexpr int64_t kMaxTrainingTokens = int64_t{1} << 31;

// Throws Error(file, ...) for an unreadable file, Error(`field`, ...) when no
// file is given or the text holds no token.
std::vector<int32_t> tokenize_documents(const Tokenizer& tokenizer, const std::vector<std::string>& files,
                                        const std::string& separator, const std::string& field);

class TrainingBatches {
 public:
  // Throws Error(`field`, ...) when the stream is shorter than seq + 1 tokens.
  TrainingBatches(std::vector<int32_t> stream, int64_t batch, int64_t seq, uint64_t seed, const std::string& field);
  // inputs, targets: [batch, seq] out. `index` counts batches from 0 (a step
  // with gradient accumulation takes several).
  void fill(int64_t index, int32_t* inputs, int32_t* targets) const;
  int64_t tokens() const { return static_cast<int64_t>(stream_.size()); }

 private:
  std::vector<int32_t> stream_;
  int64_t batch_, seq_;
  uint64_t seed_;
};

}  // namespace lmpack
