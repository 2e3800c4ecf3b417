// Saved per-position log-probabilities (--save-logits / --base), so that a
// model can be compared against a reference run without both in memory.
//
// Layout, little-endian:
//   header (40 bytes): char magic[8] = "LMPKLOGP", uint32 version = 1,
//     uint32 flags = 0, uint64 vocab, uint64 count, uint64 targets_hash
//   count records of (4 + 4 * vocab) bytes: int32 target, then float32
//     log_softmax over the whole vocabulary at the position predicting it.
// targets_hash is hash_targets() (eval/perplexity.h) of the scored ids in
// order: a file from another text or tokenization is refused before any work.
// Written through AtomicFile: it appears whole or not at all.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/atomic_file.h"
#include "core/mapped_file.h"

namespace lmpack {

inline constexpr char kLogitsMagic[8] = {'L', 'M', 'P', 'K', 'L', 'O', 'G', 'P'};
inline constexpr uint32_t kLogitsVersion = 1;
inline constexpr uint64_t kLogitsHeaderBytes = 40;

class LogitsWriter {
 public:
  // Throws Error(path, ...) when the file cannot be created.
  LogitsWriter(const std::string& path, int64_t vocab, int64_t count, uint64_t targets_hash);
  void add(int32_t target, const float* log_probs);  // log_probs: [vocab]
  int64_t written() const { return written_; }
  // Renames into place; throws (and leaves nothing) if not exactly `count` records came.
  void commit();

 private:
  AtomicFile file_;
  int64_t vocab_;
  int64_t count_;
  int64_t written_ = 0;
};

class LogitsFile {
 public:
  // Maps and validates: magic, version, header fields, exact file size.
  // Throws Error(path, ...) with the expected and actual values.
  static LogitsFile open(const std::string& path);

  const std::string& path() const { return file_->path(); }
  int64_t vocab() const { return vocab_; }
  int64_t count() const { return count_; }
  uint64_t targets_hash() const { return targets_hash_; }
  int32_t target(int64_t i) const;
  const float* log_probs(int64_t i) const;  // [vocab]; 4-byte aligned in the mapping

 private:
  std::shared_ptr<MappedFile> file_;
  int64_t vocab_ = 0;
  int64_t count_ = 0;
  uint64_t targets_hash_ = 0;
};

}  // namespace lmpack
