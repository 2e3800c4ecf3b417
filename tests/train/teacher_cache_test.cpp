// The teacher cache: top-k extraction, records read back as written, a
// record cut short not counted, and a cache of another run refused.
#include "train/teacher_cache.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/error.h"
#include "gradient_check.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

TEST(TopKLogProbs, SortedLogSoftmaxOfTheLargest) {
  const std::vector<float> logits = {1.0f, 3.0f, 2.0f, 3.0f, -1.0f};
  std::vector<int32_t> ids(3);
  std::vector<float> lp(3);
  top_k_log_probs(logits.data(), 1, 5, 3, ids.data(), lp.data());
  EXPECT_EQ(ids, (std::vector<int32_t>{1, 3, 2}));  // ties: lower id first
  double sum = 0.0;
  for (float z : logits) sum += std::exp(z);
  EXPECT_NEAR(lp[0], 3.0 - std::log(sum), 1e-6);
  EXPECT_NEAR(lp[2], 2.0 - std::log(sum), 1e-6);
}

TEST(TeacherCache, RecordsComeBackAndAnotherRunIsRefused) {
  const std::string path = testing::temp_dir() + "/teacher.cache";
  fs::remove(path);
  const TeacherCacheKey key{4, 50, 2, 3, 7, 111, 222};
  const size_t n = 2 * 3 * 4;
  std::vector<int32_t> ids(n);
  std::vector<float> lp(n);
  for (size_t i = 0; i < n; ++i) {
    ids[i] = static_cast<int32_t>(i % 50);
    lp[i] = -0.1f * static_cast<float>(i);
  }
  {
    TeacherCache cache(path, key);
    EXPECT_EQ(cache.batches(), 0);
    cache.append(0, ids.data(), lp.data());
    ids[0] = 49;
    cache.append(1, ids.data(), lp.data());
    EXPECT_EQ(cache.batches(), 2);
  }
  // A run stopped mid-record: the part is not counted.
  fs::resize_file(path, fs::file_size(path) - 5);
  TeacherCache again(path, key);
  EXPECT_EQ(again.batches(), 1);
  std::vector<int32_t> ids2(n);
  std::vector<float> lp2(n);
  again.read(0, ids2.data(), lp2.data());
  EXPECT_EQ(ids2[0], 0);
  EXPECT_EQ(lp2, lp);
  again.append(1, ids.data(), lp.data());  // written again where it was cut
  again.read(1, ids2.data(), lp2.data());
  EXPECT_EQ(ids2, ids);

  TeacherCacheKey other = key;
  other.teacher = 333;
  try {
    TeacherCache wrong(path, other);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), path + ": is the teacher cache of another run: its teacher digest (path, size, "
                                             "modification time) is 222, not 333");
  }
  const std::string not_cache = testing::temp_dir() + "/not.cache";
  std::ofstream(not_cache) << "GGUF and more bytes than a header would need, to be sure of it: .............";
  EXPECT_THROW(TeacherCache(not_cache, key), Error);
}

}  // namespace
}  // namespace lmpack
