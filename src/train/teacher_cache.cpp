#include "train/teacher_cache.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <vector>

#include "core/error.h"
#include "core/hash.h"

namespace lmpack {
namespace {

constexpr char kMagic[8] = {'L', 'M', 'P', 'K', 'T', 'O', 'P', 'K'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 64;

struct Header {
  char magic[8];
  uint32_t version, k, vocab, zero;
  int64_t batch, seq;
  uint64_t seed, text, teacher;
};
static_assert(sizeof(Header) == kHeaderBytes);

}  // namespace

uint64_t teacher_file_digest(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const std::string canonical = fs::weakly_canonical(path, ec).string();
  uint64_t h = fnv1a64(canonical.data(), canonical.size());
  // A folder (Hugging Face): its files; a file: itself.
  std::vector<fs::path> files;
  if (fs::is_directory(path, ec)) {
    for (const auto& e : fs::directory_iterator(path, ec))
      if (e.is_regular_file()) files.push_back(e.path());
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }
  for (const fs::path& f : files) {
    const uint64_t size = fs::file_size(f, ec);
    const int64_t mtime = static_cast<int64_t>(fs::last_write_time(f, ec).time_since_epoch().count());
    h = fnv1a64(&size, sizeof size, h);
    h = fnv1a64(&mtime, sizeof mtime, h);
  }
  return h;
}

TeacherCache::TeacherCache(std::string path, const TeacherCacheKey& key) : path_(std::move(path)), key_(key) {
  record_bytes_ = static_cast<size_t>(key.batch * key.seq * key.k) * (sizeof(int32_t) + sizeof(float));
  Header want{};
  std::memcpy(want.magic, kMagic, 8);
  want.version = kVersion;
  want.k = static_cast<uint32_t>(key.k);
  want.vocab = static_cast<uint32_t>(key.vocab);
  want.batch = key.batch;
  want.seq = key.seq;
  want.seed = key.seed;
  want.text = key.text;
  want.teacher = key.teacher;
  file_ = std::fopen(path_.c_str(), "r+b");
  if (file_ == nullptr) {
    file_ = std::fopen(path_.c_str(), "w+b");
    if (file_ == nullptr) throw Error(path_, cat("cannot create the teacher cache: ", std::strerror(errno)));
    if (std::fwrite(&want, sizeof want, 1, file_) != 1 || std::fflush(file_) != 0)
      throw Error(path_, "cannot write the teacher cache's header");
    return;
  }
  Header have{};
  if (std::fread(&have, sizeof have, 1, file_) != 1 || std::memcmp(have.magic, kMagic, 8) != 0)
    throw Error(path_, "is not an lmpack teacher cache (no LMPKTOPK header)");
  if (have.version != kVersion)
    throw Error(path_, cat("is a teacher cache of version ", have.version, ", this lmpack reads ", kVersion));
  auto differs = [&](const char* what, auto was, auto now) {
    if (was != now) throw Error(path_, cat("is the teacher cache of another run: its ", what, " is ", was, ", not ", now));
  };
  differs("k", have.k, want.k);
  differs("vocabulary", have.vocab, want.vocab);
  differs("batch", have.batch, want.batch);
  differs("seq", have.seq, want.seq);
  differs("seed", have.seed, want.seed);
  differs("text digest", have.text, want.text);
  differs("teacher digest (path, size, modification time)", have.teacher, want.teacher);
  std::fseek(file_, 0, SEEK_END);
  const long size = std::ftell(file_);
  batches_ = size < static_cast<long>(kHeaderBytes)
                 ? 0
                 : static_cast<int64_t>((static_cast<size_t>(size) - kHeaderBytes) / record_bytes_);
}

TeacherCache::~TeacherCache() {
  if (file_ != nullptr) std::fclose(file_);
}

void TeacherCache::read(int64_t index, int32_t* ids, float* logprobs) {
  LMPACK_CHECK(index >= 0 && index < batches_, "teacher cache read beyond its records");
  const size_t rows = static_cast<size_t>(key_.batch * key_.seq), k = static_cast<size_t>(key_.k);
  const long at = static_cast<long>(kHeaderBytes + static_cast<size_t>(index) * record_bytes_);
  if (std::fseek(file_, at, SEEK_SET) != 0 || std::fread(ids, sizeof(int32_t), rows * k, file_) != rows * k ||
      std::fread(logprobs, sizeof(float), rows * k, file_) != rows * k)
    throw Error(path_, cat("cannot read batch ", index, " of the teacher cache"));
  for (size_t i = 0; i < rows * k; ++i)
    if (ids[i] < 0 || ids[i] >= key_.vocab || !(logprobs[i] <= 0.0f))
      throw Error(path_, cat("batch ", index, " of the teacher cache is damaged (token ", ids[i], ", log-probability ",
                             logprobs[i], ")"));
}

void TeacherCache::append(int64_t index, const int32_t* ids, const float* logprobs) {
  LMPACK_CHECK(index == batches_, "teacher cache records must be appended in order");
  const size_t n = static_cast<size_t>(key_.batch * key_.seq * key_.k);
  const long at = static_cast<long>(kHeaderBytes + static_cast<size_t>(index) * record_bytes_);
  if (std::fseek(file_, at, SEEK_SET) != 0 || std::fwrite(ids, sizeof(int32_t), n, file_) != n ||
      std::fwrite(logprobs, sizeof(float), n, file_) != n || std::fflush(file_) != 0)
    throw Error(path_, cat("cannot write batch ", index, " of the teacher cache: ", std::strerror(errno)));
  ++batches_;
}

void top_k_log_probs(const float* logits, int64_t rows, int64_t vocab, int64_t k, int32_t* ids, float* logprobs) {
  std::vector<int32_t> order(static_cast<size_t>(vocab));
  for (int64_t r = 0; r < rows; ++r) {
    const float* z = logits + r * vocab;
    const double max = *std::max_element(z, z + vocab);
    double sum = 0.0;
    for (int64_t i = 0; i < vocab; ++i) sum += std::exp(z[i] - max);
    const double log_sum = std::log(sum) + max;
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int32_t a, int32_t b) { return z[a] > z[b] || (z[a] == z[b] && a < b); });
    for (int64_t j = 0; j < k; ++j) {
      ids[r * k + j] = order[j];
      logprobs[r * k + j] = static_cast<float>(std::min(0.0, z[order[j]] - log_sum));
    }
  }
}

}  // namespace lmpack
