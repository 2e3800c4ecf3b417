// A teacher's top-k next-token distributions for the batches of a training
// run, kept on disk so that one teacher pass serves several students (the
// batches of a run are fixed by its seed, batch, seq and text: see
// train/token_stream.h), and so that a large teacher runs once.
//
// File layout (little-endian), written here and read back only here:
//   header, 64 bytes: "LMPKTOPK" | u32 version (1) | u32 k | u32 vocab |
//     u32 0 | i64 batch | i64 seq | u64 seed | u64 text digest |
//     u64 teacher digest
//   then batch records, one per batch index 0, 1, 2, ... in order, each
//     batch * seq rows of: k x i32 token ids, then k x f32 log-probabilities
//     (log-softmax of the teacher's logits at temperature 1), most probable first.
// A record cut short (a run stopped mid-write) is not counted and is written
// again. The teacher digest covers the teacher file's path, size and
// modification time, the text digest the tokenized text: a cache made for
// another teacher, text or batch layout is refused, never silently reused.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace lmpack {

struct TeacherCacheKey {
  int64_t k = 0, vocab = 0, batch = 0, seq = 0;
  uint64_t seed = 0, text = 0, teacher = 0;
};

// The digest of a model file as a cache key uses it (path, size, mtime).
uint64_t teacher_file_digest(const std::string& path);

class TeacherCache {
 public:
  // Opens `path`, creating it when absent. Throws Error(path, ...) for a file
  // that is not a cache, or one made for another key (naming what differs).
  TeacherCache(std::string path, const TeacherCacheKey& key);
  ~TeacherCache();
  TeacherCache(const TeacherCache&) = delete;
  TeacherCache& operator=(const TeacherCache&) = delete;

  int64_t batches() const { return batches_; }  // complete records, from index 0
  // ids, logprobs: [batch * seq, k] out; index < batches().
  void read(int64_t index, int32_t* ids, float* logprobs);
  // Stores batch `index` (== batches()): ids, logprobs [batch * seq, k].
  void append(int64_t index, const int32_t* ids, const float* logprobs);

 private:
  std::string path_;
  TeacherCacheKey key_;
  std::FILE* file_ = nullptr;
  int64_t batches_ = 0;
  size_t record_bytes_ = 0;
};

// The top-k of each row of logits as (ids, log-softmax values), most
// probable first (ties: lower id first). logits: [rows, vocab].
void top_k_log_probs(const float* logits, int64_t rows, int64_t vocab, int64_t k, int32_t* ids, float* logprobs);

}  // namespace lmpack
