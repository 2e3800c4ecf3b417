// Quality of pruning on real models (issue 5's table): perplexity, KL and
// top-1 against F32 on TinyStories stories 0-99, calibrating on stories
// 200-999 (bench/quality_eval.h), for
//  - magnitude, Wanda and SparseGPT at 25% and 50% unstructured sparsity and
//    at 2:4 (every linear weight of the blocks, per output row), with the
//    achieved sparsity of the linears and the nonzero parameter count;
//  - structured pruning: 25% of the FFN channels, 2 of 8 heads per layer
//    (one GQA group on both test models), 1 block in 5 (at least one), with
//    the parameter count.
// Each cell runs the same library code as `lmpack prune` (the sequential
// pipeline for unstructured pruning, pipeline/structured_prune for the rest)
// and evaluates the result in memory.
//
// Usage: pruning_quality_bench [stories260K|ts-llama] [--samples N] [--ctx N]
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "core/stopwatch.h"
#include "pipeline/compressed_checkpoint.h"
#include "pipeline/sequential_calibration.h"
#include "pipeline/structured_prune.h"
#include "quality_eval.h"

int main(int argc, char** argv) {
  using namespace lmpack;
  try {
    std::string model = "stories260K";
    int64_t samples = 128, calib_ctx = 256;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--samples" && i + 1 < argc) samples = std::stoll(argv[++i]);
      else if (a == "--ctx" && i + 1 < argc) calib_ctx = std::stoll(argv[++i]);
      else model = a;
    }
    set_num_threads(0);
    const Checkpoint ckpt = bench::load_quality_model(model);
    bench::QualityProtocol protocol(ckpt, samples, calib_ctx);
    const bench::Quality& base = protocol.baseline();
    std::printf("%s: F32 perplexity %.4f on stories 0-99 (%lld tokens scored), %lld parameters; calibration %zu "
                "windows x %lld tokens from stories 200-999\n\n",
                model.c_str(), base.perplexity, static_cast<long long>(protocol.scored()),
                static_cast<long long>(ckpt.parameter_count()), protocol.windows().size(),
                static_cast<long long>(calib_ctx));
    std::printf("| pruning | method | perplexity | Δppl %% | KL mean | top-1 | linear sparsity | parameters (nonzero) | mean layer rel. error | seconds |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|\n");

    struct Unstructured {
      const char* label;
      SparsityPattern pattern;
    };
    const Unstructured patterns[] = {{"25%", {0.25, 0, 0}}, {"50%", {0.5, 0, 0}}, {"2:4", {0.0, 2, 4}}};
    const std::pair<const char*, PruneMethod> methods[] = {
        {"magnitude", PruneMethod::kMagnitude}, {"wanda", PruneMethod::kWanda}, {"sparsegpt", PruneMethod::kSparseGpt}};
    for (const Unstructured& u : patterns) {
      for (const auto& [name, method] : methods) {
        Stopwatch clock;
        CalibrationRecipe r;
        r.prune = PruneSpec{method, u.pattern};
        r.show_progress = false;
        for (int64_t l = 0; l < ckpt.config.n_layers; ++l)
          for (const std::string& n : block_linear_names(l)) r.gguf_types[n] = DType::F32;
        SequentialCalibration p(ckpt, protocol.windows(), r);
        const Checkpoint q = decode_compressed(ckpt, p, r.gguf_types, {});
        int64_t linear = 0, zeros = 0;
        double err = 0.0;
        for (const LayerError& e : p.layer_errors()) {
          linear += e.rows * e.cols;
          zeros += e.zeros;
          err += e.relative_error;
        }
        err /= static_cast<double>(p.layer_errors().size());
        const bench::Quality qa = protocol.evaluate(q);
        std::printf("| %s | %s | %.4f | %+.2f | %.5f | %.4f | %.4f | %lld (%lld) | %.4f | %.1f |\n", u.label, name,
                    qa.perplexity, 100.0 * (qa.perplexity / base.perplexity - 1.0), qa.kl_mean, qa.top1,
                    static_cast<double>(zeros) / static_cast<double>(linear),
                    static_cast<long long>(ckpt.parameter_count()),
                    static_cast<long long>(ckpt.parameter_count() - zeros), err, clock.seconds());
        std::fflush(stdout);
      }
    }

    struct Structured {
      std::string label;
      StructuredPruneOptions options;
    };
    const ModelConfig& c = ckpt.config;
    StructuredPruneOptions ffn, heads, blocks;
    ffn.ffn_width = c.hidden_dim - c.hidden_dim / 4;
    heads.heads = c.n_heads / 4;
    blocks.drop_blocks = std::max<int64_t>(1, c.n_layers / 5);
    const Structured cuts[] = {
        {cat("FFN channels -25% (", c.hidden_dim, " -> ", ffn.ffn_width, ")"), ffn},
        {cat("heads -", heads.heads, " of ", c.n_heads, " per layer"), heads},
        {cat("blocks -", blocks.drop_blocks, " of ", c.n_layers), blocks}};
    for (const Structured& s : cuts) {
      Stopwatch clock;
      const StructuredPruneResult res = structured_prune(ckpt, protocol.windows(), s.options);
      const bench::Quality qa = protocol.evaluate(res.checkpoint);
      std::printf("| %s | activation scores | %.4f | %+.2f | %.5f | %.4f | - | %lld | - | %.1f |\n", s.label.c_str(),
                  qa.perplexity, 100.0 * (qa.perplexity / base.perplexity - 1.0), qa.kl_mean, qa.top1,
                  static_cast<long long>(res.checkpoint.parameter_count()), clock.seconds());
      std::fflush(stdout);
    }
    std::printf("\nreproduce: build/release/pruning_quality_bench %s --samples %lld --ctx %lld\n", model.c_str(),
                static_cast<long long>(samples), static_cast<long long>(calib_ctx));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pruning_quality_bench: %s\n", e.what());
    return 1;
  }
}
