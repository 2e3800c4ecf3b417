// The model-layer readers against absurd and hostile input: config.json and
// the GPTQ/AWQ quantization configs. Each gives a one-line Error naming the
// input and the field, never another exception, an allocation the size of a
// claim, or deep recursion. (Vocabularies: tests/tokenizer/absurd_vocab_test.cpp.)
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "absurd_input_checks.h"
#include "core/error.h"
#include "model/hf_config.h"
#include "model/load_hf_int.h"
#include "test_paths.h"

namespace lmpack {
namespace {

using testing::error_of;

std::string temp(const std::string& name) { return testing::temp_dir() + "/" + name; }

TEST(AbsurdConfig, ConfigJsonTooLargeOrTooDeep) {
  const std::string path = temp("huge-config.json");
  {
    std::ofstream out(path, std::ios::binary);
    out << "{\"x\":\"" << std::string(17 << 20, 'a') << "\"}";
  }
  EXPECT_HAS(error_of([&] { read_hf_config(path); }, path), "a config.json may have");
  EXPECT_HAS(error_of([&] { parse_hf_config(std::string(1000000, '['), "absurd"); }), "deeper than 64 levels");
  EXPECT_HAS(error_of([&] { parse_hf_config("{\"architectures\":[\"x\\ny\"]}", "absurd"); }),
             "unsupported architecture 'x\\x0ay'");
  // A long value in a message is cut to a short excerpt.
  const std::string msg = error_of([&] {
    parse_hf_config(R"({"architectures":["LlamaForCausalLM"],"hidden_size":")" + std::string(10000, 'z') + "\"}",
                    "absurd");
  });
  EXPECT_LT(msg.size(), 300u) << msg;
}

TEST(AbsurdQuantConfig, ValuesBeyondIntAreRefusedNotTruncated) {
  // bits = 2^32 + 4 used to become 4 through a cast to int.
  const HfQuantConfigText gptq{R"({"quantization_config":{"quant_method":"gptq","bits":4294967300,"group_size":32}})",
                               "absurd", HfQuantSource::kConfigJson};
  EXPECT_HAS(error_of([&] { check_hf_quant_config(gptq); }), "bits' = 4294967300 is not supported");
  const HfQuantConfigText awq{R"({"w_bit":4294967300,"q_group_size":32})", "absurd", HfQuantSource::kQuantConfig};
  EXPECT_HAS(error_of([&] { check_hf_quant_config(awq); }), "AWQ with 4294967300 bits");
  const HfQuantConfigText deep{std::string(100000, '[') + std::string(100000, ']'), "absurd",
                               HfQuantSource::kQuantizeConfig};
  EXPECT_HAS(error_of([&] { check_hf_quant_config(deep); }), "deeper than 64 levels");
}

}  // namespace
}  // namespace lmpack
