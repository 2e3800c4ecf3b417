// Quality of the calibrated methods on real models: perplexity and KL
// divergence against F32 for RTN, importance-weighted RTN, AWQ, GPTQ and GPTQ
// with importance weights, on integer group grids (4-bit g32, 3-bit g32,
// asymmetric: the GPTQ/AWQ export grids) and on llama.cpp mixes (Q4_K_M,
// Q3_K_M, Q2_K).
//
// Protocol (issue 4): the TinyStories validation file is split at
// "<|endoftext|>"; stories 200-999 are the calibration text (joined with
// newlines, SAMPLES random windows of CTX tokens, seed 0), stories 0-99 the
// evaluation set (document mode, as `lmpack eval --doc-separator
// '<|endoftext|>' --max-docs 100`). The importance matrix is the mean x² of
// every linear's inputs over the same calibration windows (what `lmpack
// imatrix` computes). Each cell runs the sequential pipeline in process and
// evaluates the compressed model decoded to F32 in memory
// (pipeline/compressed_checkpoint.h): the bytes are those `lmpack quantize`
// writes. Token embeddings and the output matrix follow the mix for GGUF
// cells and stay F32 for integer cells (the exports keep them in F16).
//
// Usage: calibration_quality_bench [stories260K|ts-llama] [--samples N] [--ctx N] [--grids LIST] [--methods LIST]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "core/stopwatch.h"
#include "eval/calibration.h"
#include "eval/kl.h"
#include "eval/perplexity.h"
#include "formats/format_sizes.h"
#include "pipeline/compressed_checkpoint.h"
#include "pipeline/gguf_quantize.h"
#include "pipeline/imatrix_job.h"
#include "pipeline/sequential_calibration.h"
#include "quality_eval.h"
#include "runtime/forward.h"
#include "runtime/weights.h"
#include "tokenizer/tokenizer.h"

namespace {

using namespace lmpack;


std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(item);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string model = "stories260K";
    int64_t samples = 128, calib_ctx = 256;
    std::vector<std::string> grids = {"int4", "int3", "Q4_K_M", "Q3_K_M", "Q2_K"};
    std::vector<std::string> methods = {"rtn", "imatrix-rtn", "awq", "gptq", "gptq+imatrix"};
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= argc) throw Error(a, "needs a value");
        return argv[++i];
      };
      if (a == "--samples") samples = std::stoll(next());
      else if (a == "--ctx") calib_ctx = std::stoll(next());
      else if (a == "--grids") grids = split_list(next());
      else if (a == "--methods") methods = split_list(next());
      else model = a;
    }
    set_num_threads(0);
    const Checkpoint ckpt = bench::load_quality_model(model);
    bench::QualityProtocol protocol(ckpt, samples, calib_ctx);
    const auto& windows = protocol.windows();
    // The importance matrix over the calibration windows.
    const auto imatrix = std::make_shared<const ImportanceMatrix>(compute_importance_matrix(ckpt, windows, {}, false));
    std::printf("%s: F32 perplexity %.4f on stories 0-99 (%lld tokens scored); calibration %zu windows x %lld "
                "tokens from stories 200-999\n\n",
                model.c_str(), protocol.baseline().perplexity, static_cast<long long>(protocol.scored()), windows.size(),
                static_cast<long long>(calib_ctx));
    std::printf("| grid | method | perplexity | Δppl %% | KL mean | top-1 | mean layer rel. error | bits/weight (linears) | seconds |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|\n");
    for (const std::string& grid : grids) {
      for (const std::string& method : methods) {
        Stopwatch clock;
        const bool importance = method == "imatrix-rtn" || method == "gptq+imatrix";
        CalibrationRecipe r;
        r.rounding = method.rfind("gptq", 0) == 0 ? RoundingMethod::kGptq : RoundingMethod::kRtn;
        r.awq = method == "awq";
        if (importance) r.importance = imatrix;
        r.show_progress = false;
        std::map<std::string, DType> types;
        const bool integer = grid.rfind("int", 0) == 0;
        double linear_bits = 0.0, linear_params = 0.0;
        if (integer) {
          IntGridSpec g;
          g.bits = std::stoi(grid.substr(3));
          r.int_grid = g;
          r.group_size = 32;
        } else {
          QuantizeOptions qo;
          qo.type_name = grid;
          if (importance) qo.imatrix = imatrix;  // the mix rules that depend on an imatrix
          types = plan_gguf_types(ckpt, qo);
          for (int64_t l = 0; l < ckpt.config.n_layers; ++l)
            for (const std::string& n : block_linear_names(l)) r.gguf_types[n] = types.at(n);
        }
        for (int64_t l = 0; l < ckpt.config.n_layers; ++l)
          for (const std::string& n : block_linear_names(l)) {
            const TensorInfo& t = ckpt.tensor(n);
            const double n_el = static_cast<double>(t.n_elements());
            linear_params += n_el;
            if (integer) {
              const double groups = std::ceil(static_cast<double>(t.cols()) / 32.0) * t.rows();
              linear_bits += n_el * r.int_grid->bits + groups * (16 + r.int_grid->bits);  // fp16 scale + packed zero
            } else {
              linear_bits += 8.0 * static_cast<double>(dtype_bytes(types.at(n), t.n_elements()));
            }
          }
        SequentialCalibration p(ckpt, windows, r);
        const Checkpoint q = decode_compressed(ckpt, p, types, importance ? *imatrix : ImportanceMatrix{});
        double err = 0.0;
        for (const LayerError& e : p.layer_errors()) err += e.relative_error;
        err /= static_cast<double>(p.layer_errors().size());
        const bench::Quality qa = protocol.evaluate(q);
        std::printf("| %s | %s | %.4f | %+.2f | %.5f | %.4f | %.4f | %.2f | %.1f |\n", grid.c_str(), method.c_str(),
                    qa.perplexity, 100.0 * (qa.perplexity / protocol.baseline().perplexity - 1.0), qa.kl_mean, qa.top1, err,
                    linear_bits / linear_params, clock.seconds());
        std::fflush(stdout);
      }
    }
    std::printf("\nreproduce: build/release/calibration_quality_bench %s --samples %lld --ctx %lld\n", model.c_str(),
                static_cast<long long>(samples), static_cast<long long>(calib_ctx));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "calibration_quality_bench: %s\n", e.what());
    return 1;
  }
}
