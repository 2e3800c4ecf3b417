// Recipe files (pipeline/recipe.h): every key read into the job's steps, and
// every mistake a one-line error naming the file and the key.
#include "pipeline/recipe.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace lmpack {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_recipe(text, "r.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(Recipe, ReadsEveryKindOfStep) {
  const Recipe r = parse_recipe(R"({
    "calibration": {"files": ["a.txt", "b.txt"], "samples": 64, "ctx": 256, "seed": 7, "consecutive": true},
    "steps": [
      {"structured": {"heads": 2, "ffn_width": 512, "drop_blocks": 1}},
      {"prune": {"method": "sparsegpt", "pattern": "2:4", "damp": 0.05, "block_size": 64}},
      {"prune": {"method": "wanda", "sparsity": 0.25}},
      {"quantize": {"method": "awq+gptq", "type": "q4_k_m", "tensor_types": ["ffn_down=q6_K", "attn_v=q8_0"],
                    "output_type": "q8_0", "token_embedding_type": "q4_0", "imatrix": "m.imatrix", "awq_grid": 10}}
    ]})", "r.json");
  ASSERT_EQ(r.steps.size(), 4u);
  EXPECT_TRUE(r.has_calibration);
  EXPECT_EQ(r.calibration.files, (std::vector<std::string>{"a.txt", "b.txt"}));
  EXPECT_EQ(r.calibration.samples, 64);
  EXPECT_EQ(r.calibration.ctx, 256);
  EXPECT_EQ(r.calibration.seed, 7u);
  EXPECT_TRUE(r.calibration.consecutive);
  EXPECT_EQ(r.steps[0].kind, StepKind::kStructured);
  EXPECT_EQ(r.steps[0].structure.heads, 2);
  EXPECT_EQ(r.steps[0].structure.ffn_width, 512);
  EXPECT_EQ(r.steps[0].structure.drop_blocks, 1);
  EXPECT_EQ(r.steps[1].kind, StepKind::kPrune);
  EXPECT_EQ(r.steps[1].prune, PruneMethod::kSparseGpt);
  EXPECT_EQ(r.steps[1].pattern.n, 2);
  EXPECT_EQ(r.steps[1].pattern.m, 4);
  EXPECT_DOUBLE_EQ(r.steps[1].damp, 0.05);
  EXPECT_EQ(r.steps[1].block_size, 64);
  EXPECT_EQ(r.steps[2].prune, PruneMethod::kWanda);
  EXPECT_DOUBLE_EQ(r.steps[2].pattern.sparsity, 0.25);
  const CompressStep& q = r.steps[3];
  EXPECT_EQ(q.kind, StepKind::kQuantize);
  EXPECT_EQ(q.rounding, RoundingMethod::kGptq);
  EXPECT_TRUE(q.awq);
  EXPECT_EQ(q.awq_grid, 10);
  EXPECT_EQ(q.gguf.type_name, "q4_k_m");
  ASSERT_EQ(q.gguf.tensor_types.size(), 2u);  // in the file's order: the first match wins
  EXPECT_EQ(q.gguf.tensor_types[0], (std::pair<std::string, std::string>{"ffn_down", "q6_K"}));
  EXPECT_EQ(q.gguf.tensor_types[1], (std::pair<std::string, std::string>{"attn_v", "q8_0"}));
  EXPECT_EQ(q.gguf.output_type, "q8_0");
  EXPECT_EQ(q.gguf.token_embedding_type, "q4_0");
  EXPECT_EQ(q.gguf.imatrix_path, "m.imatrix");
  EXPECT_FALSE(q.int_export);
}

TEST(Recipe, ReadsAnIntegerExport) {
  const Recipe r = parse_recipe(
      R"({"steps": [{"quantize": {"method": "gptq", "format": "gptq", "bits": 3, "group_size": 32, "sym": true,
                                   "act_order": true, "awq_clip": true}}]})",
      "r.json");
  ASSERT_EQ(r.steps.size(), 1u);
  ASSERT_TRUE(r.steps[0].int_export);
  EXPECT_EQ(r.steps[0].int_export->format, IntExportFormat::kGptq);
  EXPECT_EQ(r.steps[0].int_export->bits, 3);
  EXPECT_EQ(r.steps[0].int_export->group_size, 32);
  EXPECT_TRUE(r.steps[0].int_export->symmetric);
  EXPECT_TRUE(r.steps[0].act_order);
  EXPECT_TRUE(r.steps[0].awq_clip);
  EXPECT_FALSE(r.has_calibration);
  EXPECT_EQ(r.steps[0].int_export->ct_layout, CtLayout::kAuto);
  const Recipe m = parse_recipe(
      R"({"steps": [{"quantize": {"method": "gptq", "format": "compressed-tensors", "sym": true,
                                   "ct_layout": "marlin-24"}}]})",
      "r.json");
  EXPECT_EQ(m.steps[0].int_export->ct_layout, CtLayout::kMarlin24);
}

TEST(Recipe, ReadsADistillStep) {
  const Recipe r = parse_recipe(R"({"steps": [
      {"structured": {"ffn_width": 192}},
      {"distill": {"data": ["t.txt"], "steps": 300, "batch": 4, "seq": 128, "lr": 0.002, "min_lr": 0.0002,
                   "warmup": 10, "temperature": 2, "alpha": 0.9, "teacher": "big.gguf", "seed": 3,
                   "teacher_cache": "c.cache", "cache_top_k": 16, "grad_accum": 2, "clip": 0.5,
                   "weight_decay": 0.01}},
      {"distill": {"steps": 50, "type": "Q2_K", "imatrix": "m.imatrix", "hidden_weight": 0.5,
                   "activation_memory": 1000000}}]})",
                                "r.json");
  ASSERT_EQ(r.steps.size(), 3u);
  const CompressStep& s = r.steps[1];
  EXPECT_EQ(s.kind, StepKind::kDistill);
  EXPECT_EQ(s.distill.teacher, "big.gguf");
  EXPECT_EQ(s.distill.training.data, (std::vector<std::string>{"t.txt"}));
  EXPECT_EQ(s.distill.training.steps, 300);
  EXPECT_EQ(s.distill.training.batch, 4);
  EXPECT_EQ(s.distill.training.seq, 128);
  EXPECT_EQ(s.distill.training.grad_accum, 2);
  EXPECT_FLOAT_EQ(s.distill.training.lr, 0.002f);
  EXPECT_FLOAT_EQ(s.distill.training.min_lr, 0.0002f);
  EXPECT_EQ(s.distill.training.warmup, 10);
  EXPECT_DOUBLE_EQ(s.distill.training.clip, 0.5);
  EXPECT_FLOAT_EQ(s.distill.training.adamw.weight_decay, 0.01f);
  EXPECT_EQ(s.distill.training.seed, 3u);
  EXPECT_FLOAT_EQ(s.distill.temperature, 2.0f);
  EXPECT_FLOAT_EQ(s.distill.alpha, 0.9f);
  EXPECT_EQ(s.distill.teacher_cache, "c.cache");
  EXPECT_EQ(s.distill.cache_top_k, 16);
  EXPECT_EQ(r.steps[2].gguf.type_name, "Q2_K");
  EXPECT_EQ(r.steps[2].gguf.imatrix_path, "m.imatrix");
  EXPECT_TRUE(r.steps[2].distill.training.data.empty());  // the job's calibration files
  EXPECT_FLOAT_EQ(r.steps[2].distill.hidden_weight, 0.5f);
  EXPECT_EQ(r.steps[2].distill.training.activation_memory, 1000000u);
  EXPECT_EQ(s.distill.hidden_weight, 0.0f);
  EXPECT_EQ(s.distill.training.activation_memory, 0u);

  EXPECT_EQ(error_of(R"({"steps": [{"distill": {"lr": -1}}]})"),
            "r.json: steps[0].distill.lr: must be a positive number, got -1");
  EXPECT_EQ(error_of(R"({"steps": [{"distill": {"alpha": 2}}]})"),
            "r.json: steps[0].distill.alpha: must be between 0 and 1, got 2");
  EXPECT_EQ(error_of(R"({"steps": [{"distill": {"imatrix": "m"}}]})"),
            "r.json: steps[0].distill.imatrix: weights the scale search of a quantized student: give type too");
  EXPECT_EQ(error_of(R"({"steps": [{"distill": {"type": "Q2_K"}}, {"structured": {"heads": 1}}]})"),
            "r.json: steps[0]: only the last step has a target (type, tensor_types, format); the steps before it "
            "keep F32");
  EXPECT_EQ(error_of(R"({"steps": [{"distill": {"epochs": 2}}]})").rfind(
                "r.json: steps[0].distill.epochs: unknown key (known here: activation_memory, alpha, batch,", 0),
            0u);
}

TEST(Recipe, MistakesNameTheFileAndTheKey) {
  const struct {
    const char* text;
    const char* error;  // the whole message
  } cases[] = {
      {"[1]", "r.json: must be an object, got [1]"},
      {"{}", "r.json: steps: a recipe needs \"steps\": a non-empty array of steps"},
      {R"({"steps": [], "x": 1})", "r.json: x: unknown key (known here: calibration, steps)"},
      {R"({"steps": [{"squash": {}}]})", "r.json: steps[0].squash: unknown step (structured, prune, quantize or distill)"},
      {R"({"steps": [{"prune": {}, "quantize": {}}]})",
       "r.json: steps[0]: a step is an object with one key: structured, prune, quantize or distill"},
      {R"({"steps": [{"prune": {"method": "sparsegpt", "pattern": "2:4", "sparsity": 0.5}}]})",
       "r.json: steps[0].prune: give one of sparsity (a fraction) and pattern (\"N:M\")"},
      {R"({"steps": [{"prune": {"pattern": "4:2"}}]})",
       "r.json: steps[0].prune.pattern: N:M needs 0 < N < M <= 256, got 4:2"},
      {R"({"steps": [{"prune": {"sparsity": 1.5}}]})", "r.json: steps[0].prune.sparsity: must be in (0, 1), got 1.5"},
      {R"({"steps": [{"quantize": {"format": "compressed-tensors", "ct_layout": "24"}}]})",
       "r.json: steps[0].quantize.ct_layout: must be auto, pack-quantized or marlin-24, got '24'"},
      {R"({"steps": [{"quantize": {"type": "Q4_K_M", "ct_layout": "marlin-24"}}]})",
       "r.json: steps[0].quantize.ct_layout: applies to format gptq, awq or compressed-tensors"},
      {R"({"steps": [{"prune": {"sparsity": 0.5, "typo": 1}}]})",
       "r.json: steps[0].prune.typo: unknown key (known here: block_size, damp, method, min_expert_tokens, pattern, "
       "sparsity)"},
      {R"({"steps": [{"quantize": {"method": "obq"}}]})",
       "r.json: steps[0].quantize.method: must be rtn, gptq, awq or awq+gptq, got 'obq'"},
      {R"({"steps": [{"quantize": {"type": "Q9_K"}}]})", nullptr},
      {R"({"steps": [{"quantize": {"tensor_types": ["ffn_down"]}}]})", nullptr},
      {R"({"steps": [{"quantize": {"bits": 4}}]})", "r.json: steps[0].quantize.bits: applies to format gptq, awq or compressed-tensors"},
      {R"({"steps": [{"quantize": {"format": "awq", "type": "Q4_0"}}]})",
       "r.json: steps[0].quantize.type: applies to GGUF output, not format awq"},
      {R"({"steps": [{"quantize": {"format": "gptq", "bits": 5}}]})",
       "r.json: steps[0].quantize.bits: must be 2, 3, 4 or 8, got 5"},
      {R"({"steps": [{"quantize": {"damp": "a lot"}}]})",
       "r.json: steps[0].quantize.damp: must be a number, got \"a lot\""},
      {R"({"steps": [{"quantize": {"type": "Q4_0"}}, {"prune": {"sparsity": 0.5}}]})",
       "r.json: steps[0]: only the last step has a target (type, tensor_types, format); the steps before it keep F32"},
      {R"({"steps": [{"structured": {}}]})",
       "r.json: steps[0].structured: removes nothing: give heads, ffn_width, drop_blocks or drop_experts"},
      {R"({"steps": [{"structured": {"heads": -1}}]})",
       "r.json: steps[0].structured.heads: must be in [0, 1048576], got -1"},
      {R"({"steps": [{"prune": {"sparsity": 0.5}}], "calibration": {"samples": 0}})",
       "r.json: calibration.samples: must be in [1, 16777216], got 0"},
      {R"({"steps": [{"prune": {"sparsity": 0.5}}], "calibration": {"files": "a.txt"}})",
       "r.json: calibration.files: must be an array of strings, got \"a.txt\""},
      {"{\"steps\": [", nullptr},
  };
  for (const auto& c : cases) {
    const std::string e = error_of(c.text);
    if (c.error != nullptr) {
      EXPECT_EQ(e, c.error) << c.text;
    } else {
      EXPECT_EQ(e.rfind("r.json: ", 0), 0u) << c.text << " -> " << e;
    }
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
}

}  // namespace
}  // namespace lmpack
