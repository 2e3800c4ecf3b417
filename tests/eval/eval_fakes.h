// Test doubles for the eval layer: a ForwardPass whose logits are a fixed
// function of the input token, and a one-character-per-token Tokenizer.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "runtime/forward.h"
#include "tokenizer/tokenizer.h"

namespace lmpack::testing {

// logits[v] = kHigh when v == (token + 1) % vocab, else 0: a model that always
// bets on "the next id". Records what it was asked.
class FakeForward : public ForwardPass {
 public:
  static constexpr float kHigh = 2.0f;

  FakeForward(int64_t vocab, int64_t max_context)
      : ForwardPass(make_weights(vocab)), max_context_(max_context) {}

  void forward(const int32_t* tokens, int64_t n, float* logits, bool last_only) override {
    if (pos_ + n > max_context_) throw Error("context", "full");
    const int64_t vocab = config().vocab_size;
    calls.emplace_back(tokens, tokens + n);
    for (int64_t i = last_only ? n - 1 : 0; i < n; ++i) {
      float* row = logits + (last_only ? 0 : i) * vocab;
      for (int64_t v = 0; v < vocab; ++v) row[v] = 0.0f;
      row[(tokens[i] + 1) % vocab] = kHigh;
    }
    pos_ += n;
  }
  void reset() override {
    pos_ = 0;
    ++resets;
  }
  int64_t pos() const override { return pos_; }
  int64_t max_context() const override { return max_context_; }

  // NLL of a target under this model, in double.
  static double nll(int64_t vocab, bool predicted) {
    const double z = std::exp(static_cast<double>(kHigh)) + static_cast<double>(vocab - 1);
    return predicted ? std::log(z) - kHigh : std::log(z);
  }

  std::vector<std::vector<int32_t>> calls;
  int resets = 0;

 private:
  static std::shared_ptr<const ModelWeights> make_weights(int64_t vocab) {
    auto w = std::make_shared<ModelWeights>();
    w->config.vocab_size = vocab;
    return w;
  }
  int64_t max_context_;
  int64_t pos_ = 0;
};

// 'a' -> 2, 'b' -> 3, ...; any other byte -> 0. BOS = 1. Vocab 30.
class FakeTokenizer : public Tokenizer {
 public:
  FakeTokenizer() : Tokenizer(make_vocab()) {}
  std::vector<int32_t> encode(std::string_view text, bool add_bos) const override {
    std::vector<int32_t> ids;
    if (add_bos) ids.push_back(1);
    for (char c : text) ids.push_back(c >= 'a' && c <= 'z' ? c - 'a' + 2 : 0);
    return ids;
  }
  std::string decode_token(int32_t, int32_t id) const override {
    return id >= 2 ? std::string(1, static_cast<char>('a' + id - 2)) : std::string();
  }

 private:
  static Vocab make_vocab() {
    Vocab v;
    v.tokens.resize(30);
    v.bos_id = 1;
    return v;
  }
};

}  // namespace lmpack::testing
