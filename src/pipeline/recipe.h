// Recipe files (`lmpack compress MODEL OUT --recipe FILE`): the steps of a
// compression job (pipeline/compress.h) in JSON a user writes by hand, in the
// spirit of llm-compressor's recipes. Example:
//   {
//     "steps": [
//       {"structured": {"ffn_width": 512}},
//       {"prune": {"method": "sparsegpt", "pattern": "2:4"}},
//       {"distill": {"data": ["stories.txt"], "steps": 2000, "batch": 16, "lr": 2e-3}},
//       {"quantize": {"method": "gptq", "type": "Q4_K_M",
//                     "tensor_types": ["ffn_down=q6_K"], "imatrix": "model.imatrix"}}
//     ],
//     "calibration": {"files": ["calib.txt"], "samples": 128, "ctx": 256}
//   }
// Each step is an object with one key, its kind:
//   structured  heads, ffn_width, drop_blocks          (pipeline/structured_prune.h)
//   prune       method: magnitude | wanda | sparsegpt; sparsity (0..1) or
//               pattern "N:M"; damp, block_size
//   quantize    method: rtn | gptq | awq | awq+gptq; and the target:
//               type (a llama.cpp mix or tensor type, GGUF output),
//               tensor_types ["REGEX=TYPE", ...] (first match wins),
//               output_type, token_embedding_type, pure, imatrix; or
//               format gptq | awq | compressed-tensors with bits,
//               group_size, sym, act_order, ct_layout (auto | pack-quantized
//               | marlin-24; a Hugging Face folder); damp, block_size,
//               awq_clip, awq_grid
//   distill     teacher (default: the job's input model), data [files]
//               (default: the calibration files), steps, batch, seq,
//               grad_accum, lr, min_lr, warmup, clip, weight_decay, seed,
//               temperature, alpha, hidden_weight, teacher_cache,
//               cache_top_k, activation_memory (bytes); as the last step,
//               type (and imatrix): a quantized student on that GGUF type's
//               grids (pipeline/distill_job.h)
// Only the last step has a target; the steps before it keep F32.
// "calibration" (optional) gives the calibration text and its windows:
// files, samples, ctx, seed, consecutive; paths are relative to the working
// folder. Unknown keys, wrong types and bad values are errors that name the
// file and the key ("r.json: steps[1].prune.pattern: ...").
#pragma once

#include <string>
#include <vector>

#include "pipeline/compress.h"

namespace lmpack {

struct Recipe {
  std::vector<CompressStep> steps;
  CalibrationSource calibration;
  bool has_calibration = false;  // the file has a "calibration" object
};

// `text` is the file's content; `path` names it in errors.
Recipe parse_recipe(const std::string& text, const std::string& path);
// Reads (size-capped, core/text_file.h) and parses the file.
Recipe read_recipe(const std::string& path);

}  // namespace lmpack
