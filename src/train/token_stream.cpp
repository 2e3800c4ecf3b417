#include "train/token_stream.h"

#include "core/error.h"
#include "core/hash.h"
#include "core/text_file.h"

namespace lmpack {
std::vector<int32_t> tokenize_documents(const Tokenizer& tokenizer, const std::vector<std::string>& files,
                                        const std::string& separator, const std::string& field) {
  if (files.empty()) throw Error(field, "no text file given");
  std::vector<int32_t> stream;
  for (const std::string& file : files) {
    const std::string text = read_text_file(file);
    size_t at = 0;
    while (at <= text.size()) {
      size_t end = separator.empty() ? std::string::npos : text.find(separator, at);
      if (end == std::string::npos) end = text.size();
      const std::string_view doc(text.data() + at, end - at);
      if (doc.find_first_not_of(" \t\r\n") != std::string_view::npos) {
        const std::vector<int32_t> ids = tokenizer.encode(doc, true);
        if (static_cast<int64_t>(stream.size() + ids.size()) > kMaxTrainingTokens)
          throw Error(file, cat("the training text is longer than ", kMaxTrainingTokens, " tokens"));
        stream.insert(stream.end(), ids.begin(), ids.end());
      }
      at = end + (separator.empty() ? 1 : separator.size());
    }
  }
  if (stream.empty()) throw Error(field, "the text files hold no text to train on");
  return stream;
}

TrainingBatches::TrainingBatches(std::vector<int32_t> stream, int64_t batch, int64_t seq, uint64_t seed,
                                 const std::string& field)
    : stream_(std::move(stream)), batch_(batch), seq_(seq), seed_(seed) {
  if (static_cast<int64_t>(stream_.size()) < seq + 1)
    throw Error(field, cat("the text has ", count_of(static_cast<int64_t>(stream_.size()), "token"),
                           ", fewer than one window of ", seq + 1, " (`seq` + 1)"));
}

void TrainingBatches::fill(int64_t index, int32_t* inputs, int32_t* targets) const {
  const uint64_t starts = static_cast<uint64_t>(stream_.size()) - static_cast<uint64_t>(seq_);  // >= 1
  for (int64_t b = 0; b < batch_; ++b) {
    const uint64_t h = splitmix64(splitmix64(seed_ ^ splitmix64(static_cast<uint64_t>(index))) + static_cast<uint64_t>(b));
    const size_t start = static_cast<size_t>(h % starts);
    for (int64_t t = 0; t < seq_; ++t) {
      inputs[b * seq_ + t] = stream_[start + t];
      targets[b * seq_ + t] = stream_[start + t + 1];
    }
  }
}

}  // namespace lmpack
