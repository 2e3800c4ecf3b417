// The vocabulary readers against absurd and hostile input (tokenizer.bin,
// tokenizer.json, GGUF tokenizer.ggml.*). Each gives a one-line Error naming
// the input and the field, never another exception, an allocation the size of
// a claim, or deep recursion. Also the audit cases of issue 9: non-finite GGUF
// scores and raw bytes in vocabulary messages.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "absurd_input_checks.h"
#include "core/error.h"
#include "gguf_test_writer.h"
#include "io/gguf.h"
#include "test_paths.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_readers.h"

namespace lmpack {
namespace {

using testing::Bytes;

const uint8_t* u8(const Bytes& b) { return reinterpret_cast<const uint8_t*>(b.data()); }

using testing::error_of;

TEST(AbsurdVocab, TokenizerBinWithMillionsOfTokensIsRefused) {
  // 2^22 + 1 empty tokens of 8 bytes: a legal layout, no real vocabulary.
  Bytes file = testing::gguf_pod<int32_t>(16) + Bytes(((size_t{1} << 22) + 1) * 8, '\0');
  EXPECT_HAS(error_of([&] { parse_llama2c_vocab(u8(file), file.size(), "absurd"); }),
             "tokenizer.bin holds more than 4194304 tokens");
  file = testing::gguf_pod<int32_t>(0x7fffffff) + Bytes(8, '\0');
  EXPECT_HAS(error_of([&] { parse_llama2c_vocab(u8(file), file.size(), "absurd"); }), "max_token_length is 2147483647");
  // A token length beyond the file.
  file = testing::gguf_pod<int32_t>(65536) + testing::gguf_pod<float>(0) + testing::gguf_pod<int32_t>(65536) + "ab";
  EXPECT_HAS(error_of([&] { parse_llama2c_vocab(u8(file), file.size(), "absurd"); }), "truncated");
}

TEST(AbsurdVocab, NonFiniteGgufScoresAreRejectedWithTheTokenIndex) {
  // User report: NaN/Inf scores were accepted from a GGUF (tokenizer.bin's
  // reader already refused them).
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    testing::TestGgufWriter w;
    w.kv_str("tokenizer.ggml.model", "llama");
    w.kv_strings("tokenizer.ggml.tokens", {"a", "b", "c"});
    w.kv_f32s("tokenizer.ggml.scores", {0.0f, -1.0f, bad});
    const Bytes file = w.bytes();
    const std::string msg = error_of([&] { vocab_from_gguf(parse_gguf(u8(file), file.size(), "absurd")); });
    EXPECT_HAS(msg, "tokenizer.ggml.scores of token 2 is ");
    EXPECT_HAS(msg, "(must be finite)");
  }
  // And a Vocab that carries one anyway never reaches the SPM encoder.
  Vocab v;
  v.tokens = {"a", "b"};
  v.scores = {0.0f, std::numeric_limits<float>::quiet_NaN()};
  EXPECT_HAS(error_of([&] { make_tokenizer(v, "absurd"); }), "score of token 1 is nan");
}

TEST(AbsurdVocab, RawBytesInMessagesAreEscaped) {
  // User report: "byte token 3 is spelled ..." printed the raw bytes.
  Vocab v;
  v.tokens = {"<unk>", "a", "b", "\xff\n\x1b[31m"};
  v.scores = {0.0f, 0.0f, 0.0f, 0.0f};
  v.token_types = {TokenType::kUnknown, TokenType::kNormal, TokenType::kNormal, TokenType::kByte};
  EXPECT_HAS(error_of([&] { make_tokenizer(v, "absurd"); }),
             "byte token 3 is spelled '\\xff\\x0a\\x1b[31m', expected <0xXX>");
  Vocab m;
  m.model = "gpt2\n";
  m.tokens = {"a"};
  EXPECT_HAS(error_of([&] { make_tokenizer(m, "absurd"); }), "tokenizer model 'gpt2\\x0a'");
}

TEST(AbsurdVocab, TokenizerJsonOfTheWrongShapeIsAnError) {
  auto error = [](const std::string& json) {
    return error_of([&] { parse_tokenizer_json_vocab(json, "absurd"); });
  };
  const std::string bpe = R"({"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"],)";
  // Members of the wrong JSON type used to escape as nlohmann exceptions.
  EXPECT_HAS(error(bpe + R"("byte_fallback":"yes"},"pre_tokenizer":{"type":"Metaspace"}})"), "absurd: ");
  EXPECT_HAS(error(bpe + R"("byte_fallback":false},"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":7}})"),
             "absurd: ");
  EXPECT_HAS(error(std::string(100000, '[') + std::string(100000, ']')), "deeper than 64 levels");
  EXPECT_HAS(error(R"({"model":{"type":"BPE\u0000\n"}})"), "model.type is 'BPE\\x00\\x0a'");
}

}  // namespace
}  // namespace lmpack
