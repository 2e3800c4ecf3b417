// shared_dir() and exercise_vocab(); see fuzz_shared.h.
#include "fuzz_shared.h"

#include <memory>

#include "find_shared_dir.h"
#include "fuzz_check.h"
#include "tokenizer/tokenizer.h"

namespace lmpack::fuzz {

std::string shared_dir() { return testing::find_shared_dir(LMPACK_SOURCE_DIR); }

std::string shared_path(const std::string& relative) {
  const std::string dir = shared_dir();
  if (dir.empty()) fail("../shared (the real vocabularies) is not present; set LMPACK_SHARED_DIR");
  return dir + "/" + relative;
}

void exercise_vocab(const Vocab& vocab, const std::string& where) {
  std::unique_ptr<Tokenizer> tokenizer;
  if (!run_checked([&] { tokenizer = make_tokenizer(vocab, where); }, {where})) return;
  const int64_t n = vocab.size();
  for (const char* text : {"", "Hello world", " Once upon a time, 123 \xE2\x96\x81 caf\xC3\xA9\n\t<s>"}) {
    run_checked(
        [&] {
          for (bool bos : {false, true}) {
            const std::vector<int32_t> ids = tokenizer->encode(text, bos);
            for (int32_t id : ids) LMPACK_FUZZ_CHECK(id >= 0 && id < n, "id ", id, " of ", n);
            tokenizer->decode(ids);
          }
        },
        {where});
  }
  run_checked(
      [&] {
        int32_t prev = -1;
        for (int32_t id = 0; id < n && id < 300; ++id) {
          tokenizer->decode_token(prev, id);
          prev = id;
        }
      },
      {where});
}

void decode_ids_from_bytes(const Tokenizer& tokenizer, std::string_view bytes, const std::string& where) {
  const int64_t n = tokenizer.vocab().size();
  int32_t prev = -1;
  for (size_t i = 0; i + 1 < bytes.size(); i += 2) {
    // Mostly ids inside the vocabulary, some just past its end, a few negative.
    const uint32_t raw = static_cast<uint8_t>(bytes[i]) | (static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 8);
    const int32_t id = raw >= 0xFFF0 ? -static_cast<int32_t>(raw - 0xFFEF)
                                     : static_cast<int32_t>(raw % static_cast<uint32_t>(n + 16));
    const bool in_range = id >= 0 && id < n;
    const bool decoded = run_checked([&] { tokenizer.decode_token(prev, id); }, {where});
    LMPACK_FUZZ_CHECK(decoded == in_range, "token id ", id, " of ", n, in_range ? " failed" : " decoded");
    prev = id;
  }
}

bool is_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      n = 1, cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      n = 2, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 3, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      const unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;  // overlong, surrogate
    i += n;
  }
  return true;
}

}  // namespace lmpack::fuzz
