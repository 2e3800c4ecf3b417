#include "eval/logits_file.h"

#include <cstring>

#include "core/error.h"

namespace lmpack {
namespace {

uint64_t record_bytes(int64_t vocab) { return 4 + 4 * static_cast<uint64_t>(vocab); }

}  // namespace

LogitsWriter::LogitsWriter(const std::string& path, int64_t vocab, int64_t count, uint64_t targets_hash)
    : file_(path), vocab_(vocab), count_(count) {
  LMPACK_CHECK(vocab > 0 && count >= 0, "logits writer needs vocab > 0 and count >= 0");
  file_.write(kLogitsMagic, sizeof(kLogitsMagic));
  const uint32_t version = kLogitsVersion, flags = 0;
  const uint64_t v = static_cast<uint64_t>(vocab), c = static_cast<uint64_t>(count);
  file_.write(&version, 4);
  file_.write(&flags, 4);
  file_.write(&v, 8);
  file_.write(&c, 8);
  file_.write(&targets_hash, 8);
  LMPACK_CHECK(file_.offset() == kLogitsHeaderBytes);
}

void LogitsWriter::add(int32_t target, const float* log_probs) {
  LMPACK_CHECK(written_ < count_, cat("logits writer got more than the ", count_, " announced records"));
  file_.write(&target, 4);
  file_.write(log_probs, static_cast<size_t>(vocab_) * 4);
  ++written_;
}

void LogitsWriter::commit() {
  if (written_ != count_)
    throw Error(file_.path(), cat("only ", written_, " of ", count_, " positions were written; file discarded"));
  file_.commit();
}

LogitsFile LogitsFile::open(const std::string& path) {
  LogitsFile f;
  f.file_ = MappedFile::open(path);
  ByteReader r(f.file_->data(), f.file_->size(), path);
  const uint8_t* magic = r.read_bytes(8, "magic");
  if (std::memcmp(magic, kLogitsMagic, 8) != 0)
    throw Error(path, "not an lmpack logits file (bad magic; expected one that lmpack eval saved)");
  const auto version = r.read<uint32_t>("version");
  if (version != kLogitsVersion)
    throw Error(path, cat("logits file version ", version, " is not supported (expected ", kLogitsVersion, ")"));
  r.read<uint32_t>("flags");
  const auto vocab = r.read<uint64_t>("vocab size");
  const auto count = r.read<uint64_t>("position count");
  f.targets_hash_ = r.read<uint64_t>("targets hash");
  if (vocab == 0 || vocab > (1ull << 31)) throw Error(path, cat("implausible vocab size ", vocab));
  if (count > (1ull << 40)) throw Error(path, cat("implausible position count ", count));
  const uint64_t expected = kLogitsHeaderBytes + count * record_bytes(static_cast<int64_t>(vocab));
  if (f.file_->size() != expected)
    throw Error(path, cat("size is ", f.file_->size(), " bytes, expected ", expected, " for ", count,
                          " positions of vocab ", vocab, " (truncated or corrupt)"));
  f.vocab_ = static_cast<int64_t>(vocab);
  f.count_ = static_cast<int64_t>(count);
  return f;
}

int32_t LogitsFile::target(int64_t i) const {
  LMPACK_DCHECK(i >= 0 && i < count_);
  int32_t t;
  std::memcpy(&t, file_->data() + kLogitsHeaderBytes + static_cast<uint64_t>(i) * record_bytes(vocab_), 4);
  return t;
}

const float* LogitsFile::log_probs(int64_t i) const {
  LMPACK_DCHECK(i >= 0 && i < count_);
  return reinterpret_cast<const float*>(file_->data() + kLogitsHeaderBytes +
                                        static_cast<uint64_t>(i) * record_bytes(vocab_) + 4);
}

}  // namespace lmpack
