#include "eval/calibration.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/error.h"
#include "core/text_file.h"

namespace lmpack {
namespace {


void check_numbers(const CalibrationOptions& o, bool has_bos) {
  if (o.samples < 1) throw Error("calibration.samples", cat("must be a positive integer, got ", o.samples));
  const int64_t min_ctx = has_bos ? 2 : 1;
  if (o.ctx < min_ctx) throw Error("calibration.ctx", cat("must be at least ", min_ctx, ", got ", o.ctx));
  if (o.ctx > kMaxCalibrationTokens || o.samples > kMaxCalibrationTokens / o.ctx)
    throw Error("calibration.samples", cat(count_of(o.samples, "window"), " of ", count_of(o.ctx, "token"),
                                       " exceed lmpack's limit of ", kMaxCalibrationTokens,
                                       " calibration tokens (typical sets: 128 x 512 to 512 x 2048)"));
}

}  // namespace

int64_t default_calibration_ctx(int64_t model_context_length) {
  return model_context_length > 0 ? std::min(kDefaultCalibrationCtx, model_context_length) : kDefaultCalibrationCtx;
}

std::vector<std::vector<int32_t>> cut_calibration_windows(const std::vector<int32_t>& text, int32_t bos,
                                                          const CalibrationOptions& o) {
  const bool has_bos = bos >= 0;
  check_numbers(o, has_bos);
  const int64_t body = has_bos ? o.ctx - 1 : o.ctx;  // text tokens per window
  const auto n = static_cast<int64_t>(text.size());
  if (n < body)
    throw Error("calibration.ctx", cat("the calibration text has ", n, " tokens, shorter than one window of ", o.ctx,
                                   " (", body, " text tokens); give more text or lower `calibration.ctx`"));
  std::vector<int64_t> starts;
  starts.reserve(o.samples);
  if (o.random) {
    std::mt19937_64 rng(o.seed);
    const auto span = static_cast<uint64_t>(n - body) + 1;  // possible starts
    for (int64_t i = 0; i < o.samples; ++i) starts.push_back(static_cast<int64_t>(rng() % span));
  } else {
    // Window i starts at text token i * ctx: with a BOS, the token before
    // each window's text is the one the BOS stands in for, as in llama.cpp's
    // imatrix chunks (whole text tokenized with BOS, split every ctx tokens,
    // each chunk's first token set to BOS), so the windows match its chunks.
    const int64_t available = (n - body) / o.ctx + 1;
    if (available < o.samples)
      throw Error("calibration.samples", cat("the calibration text has ", n, " tokens, enough for only ", available,
                                         " consecutive windows of ", o.ctx, ", not ", o.samples,
                                         " (give more text, lower `calibration.samples` or drop `calibration.consecutive`)"));
    for (int64_t i = 0; i < o.samples; ++i) starts.push_back(i * o.ctx);
  }
  std::vector<std::vector<int32_t>> windows;
  windows.reserve(starts.size());
  for (int64_t s : starts) {
    std::vector<int32_t> w;
    w.reserve(o.ctx);
    if (has_bos) w.push_back(bos);
    w.insert(w.end(), text.begin() + s, text.begin() + s + body);
    windows.push_back(std::move(w));
  }
  return windows;
}

std::vector<std::vector<int32_t>> calibration_windows(const Tokenizer& tokenizer, const CalibrationOptions& o) {
  if (o.files.empty())
    throw Error("calibration.files", "calibrated methods need calibration text; lmpack has no built-in calibration set");
  const int32_t bos = tokenizer.vocab().bos_id;
  check_numbers(o, bos >= 0);  // before the (slow) tokenization
  std::vector<int32_t> text;
  for (const std::string& f : o.files) {
    const std::vector<int32_t> ids = tokenizer.encode(read_text_file(f), /*add_bos=*/false);
    text.insert(text.end(), ids.begin(), ids.end());
  }
  return cut_calibration_windows(text, bos, o);
}

}  // namespace lmpack
