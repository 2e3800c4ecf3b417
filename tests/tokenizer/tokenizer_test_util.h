// Helpers for the tokenizer tests: llama.cpp's vocabulary test vectors
// (shared/data/llamacpp-vocab-tests/ggml-vocab-<name>.gguf + .inp + .out) and
// a checker that prints the string and both id lists on a mismatch.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "io/gguf.h"
#include "test_paths.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_readers.h"

namespace lmpack::testing {

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string vocab_test_path(const std::string& name, const std::string& suffix = "") {
  return shared_path("data/llamacpp-vocab-tests/ggml-vocab-" + name + ".gguf" + suffix);
}

struct VocabVectors {
  std::vector<std::string> texts;
  std::vector<std::vector<int32_t>> ids;
};

// .inp: strings each followed by "\n__ggml_vocab_test__\n"; .out: one line
// of space-separated ids per string.
inline VocabVectors read_vocab_vectors(const std::string& name) {
  VocabVectors v;
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::string inp = read_text_file(vocab_test_path(name, ".inp"));
  size_t start = 0;
  for (size_t hit = inp.find(sep); hit != std::string::npos; hit = inp.find(sep, start)) {
    v.texts.push_back(inp.substr(start, hit - start));
    start = hit + sep.size();
  }
  EXPECT_EQ(start, inp.size()) << "text after the last separator in " << name << ".inp";
  std::istringstream out(read_text_file(vocab_test_path(name, ".out")));
  std::string line;
  while (std::getline(out, line)) {
    std::istringstream fields(line);
    std::vector<int32_t> ids;
    int32_t id;
    while (fields >> id) ids.push_back(id);
    v.ids.push_back(ids);
  }
  EXPECT_EQ(v.texts.size(), v.ids.size()) << name;
  return v;
}

inline std::string format_ids(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) {
    s.push_back(' ');
    s += std::to_string(id);
  }
  return s.empty() ? "(none)" : s;
}

inline std::string escape_text(const std::string& text) {
  std::string s;
  for (char c : text) {
    if (c == '\n') s += "\\n";
    else if (c == '\t') s += "\\t";
    else if (c == '\r') s += "\\r";
    else s.push_back(c);
  }
  return "\"" + s + "\"";
}

// Encodes every vector without BOS; returns how many match.
inline int check_vectors(const Tokenizer& tokenizer, const VocabVectors& v, const std::string& label,
                         bool report = true) {
  int passed = 0;
  for (size_t i = 0; i < v.texts.size(); ++i) {
    std::vector<int32_t> got = tokenizer.encode(v.texts[i], /*add_bos=*/false);
    if (got == v.ids[i]) {
      ++passed;
    } else if (report) {
      ADD_FAILURE() << label << " string " << i << ": " << escape_text(v.texts[i]) << "\n  expected:"
                    << format_ids(v.ids[i]) << "\n  got:     " << format_ids(got);
    }
  }
  return passed;
}

inline Vocab gguf_vocab(const std::string& name) { return vocab_from_gguf(read_gguf(vocab_test_path(name))); }

}  // namespace lmpack::testing
