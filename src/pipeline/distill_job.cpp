// run_distill_job; see distill_job.h.
#include "pipeline/distill_job.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>

#include "core/error.h"
#include "core/hash.h"
#include "core/progress.h"
#include "eval/calibration.h"
#include "core/output_path.h"
#include "model/hf_config.h"
#include "model/load_model.h"
#include "runtime/forward.h"
#include "runtime/generate.h"
#include "runtime/weights.h"
#include "pipeline/gguf_student_grid.h"
#include "train/init.h"
#include "train/losses.h"
#include "train/teacher_cache.h"

namespace lmpack {
namespace {

class DistillationObjective final : public TrainingObjective, BlockOutputObserver {
 public:
  // cache may be null (the full distributions are compared). layers: with
  // hidden_weight > 0, the teacher block of each student block (no cache).
  DistillationObjective(std::shared_ptr<const ModelWeights> teacher, float temperature, float alpha,
                        TeacherCache* cache, int64_t top_k, float hidden_weight, std::vector<int64_t> layers,
                        DistillReport& report)
      : teacher_(make_fast_forward(std::move(teacher))),
        temperature_(temperature),
        alpha_(alpha),
        cache_(cache),
        top_k_(top_k),
        hidden_weight_(hidden_weight),
        layers_(std::move(layers)),
        report_(report) {
    if (hidden_weight_ > 0.0f) {
      LMPACK_CHECK(cache_ == nullptr, "hidden-state matching with a teacher cache");
      teacher_states_.resize(layers_.size());
      state_grads_.resize(layers_.size());
      teacher_->set_block_output_observer(this);
    }
  }

  double loss(int64_t index, const int32_t* inputs, const int32_t* targets, float* logits, int64_t batch,
              int64_t seq) override {
    const int64_t vocab = teacher_->config().vocab_size, rows = batch * seq;
    double loss = 0.0;
    if (alpha_ < 1.0f) {  // the text's term first, into its own buffer
      cross_entropy_grad_.resize(static_cast<size_t>(rows * vocab));
      loss += (1.0 - alpha_) * cross_entropy(cross_entropy_grad_.data(), logits, targets, rows, vocab);
    }
    if (cache_ != nullptr) {
      ids_.resize(static_cast<size_t>(rows * top_k_));
      logprobs_.resize(ids_.size());
      if (index < cache_->batches()) {
        cache_->read(index, ids_.data(), logprobs_.data());
        ++report_.cached_batches_read;
      } else {
        run_teacher(inputs, batch, seq, vocab);
        top_k_log_probs(teacher_logits_.data(), rows, vocab, top_k_, ids_.data(), logprobs_.data());
        if (index == cache_->batches()) {  // a resumed run past a shorter cache leaves it as it is
          cache_->append(index, ids_.data(), logprobs_.data());
          ++report_.cached_batches_written;
        }
      }
      loss += alpha_ * distillation_kl_top_k(logits, logits, ids_.data(), logprobs_.data(), rows, vocab, top_k_,
                                             temperature_);
    } else {
      run_teacher(inputs, batch, seq, vocab);
      loss += alpha_ * distillation_kl(logits, logits, teacher_logits_.data(), rows, vocab, temperature_);
    }
    if (alpha_ < 1.0f) {  // the two gradients, weighted
      const size_t n = static_cast<size_t>(rows * vocab);
      for (size_t i = 0; i < n; ++i) logits[i] = alpha_ * logits[i] + (1.0f - alpha_) * cross_entropy_grad_[i];
    }
    return loss;
  }

  double hidden_loss(const TrainingPass& pass, float grad_scale, std::vector<const float*>& block_grads) override {
    if (hidden_weight_ == 0.0f) return 0.0;
    const int64_t rows = pass.batch() * pass.seq(), dim = teacher_->config().dim;
    const double weight = static_cast<double>(hidden_weight_) / static_cast<double>(layers_.size());
    double loss = 0.0;
    for (size_t i = 0; i < layers_.size(); ++i) {
      std::vector<float>& d = state_grads_[i];
      d.resize(static_cast<size_t>(rows * dim));
      loss += weight * hidden_state_distance(d.data(), pass.block_output(static_cast<int64_t>(i)),
                                             teacher_states_[i].data(), rows, dim);
      const float scale = static_cast<float>(weight) * grad_scale;
      for (float& g : d) g *= scale;
      block_grads[i] = d.data();
    }
    return loss;
  }

  std::map<std::string, std::string> describe() const override {
    std::string hidden;
    if (hidden_weight_ > 0.0f) {
      hidden = cat(" hidden ", hidden_weight_, " at");
      for (int64_t l : layers_) hidden += cat(" ", l);
    }
    return {{"objective", cat("distill T ", temperature_, " alpha ", alpha_,
                              cache_ != nullptr ? cat(" teacher top-", top_k_) : std::string(), hidden)}};
  }

 private:
  // The teacher's residual stream after the blocks the student matches (a
  // deeper student may match one teacher block from several of its own).
  void observe(int64_t layer, int64_t first_pos, const float* x, int64_t m, int64_t dim) override {
    for (size_t i = 0; i < layers_.size(); ++i)
      if (layers_[i] == layer) std::copy_n(x, m * dim, teacher_states_[i].data() + (row0_ + first_pos) * dim);
  }

  void run_teacher(const int32_t* inputs, int64_t batch, int64_t seq, int64_t vocab) {
    teacher_logits_.resize(static_cast<size_t>(batch * seq * vocab));
    for (std::vector<float>& t : teacher_states_) t.resize(static_cast<size_t>(batch * seq * teacher_->config().dim));
    for (int64_t b = 0; b < batch; ++b) {
      teacher_->reset();
      row0_ = b * seq;
      teacher_->forward(inputs + b * seq, seq, teacher_logits_.data() + b * seq * vocab);
    }
  }

  std::unique_ptr<ForwardPass> teacher_;
  float temperature_, alpha_;
  TeacherCache* cache_;
  int64_t top_k_;
  float hidden_weight_;
  std::vector<int64_t> layers_;   // [student blocks] the teacher block each is compared with
  int64_t row0_ = 0;              // the batch row of the sequence the teacher is running
  DistillReport& report_;
  std::vector<float> teacher_logits_, cross_entropy_grad_, logprobs_;
  std::vector<std::vector<float>> teacher_states_, state_grads_;  // [student blocks][rows, dim]
  std::vector<int32_t> ids_;
};

// `count` sequences sampled from the teacher, each BOS + up to seq - 1
// tokens (ended early by EOS), back to back.
std::vector<int32_t> sample_teacher(std::shared_ptr<const ModelWeights> teacher, const Vocab& vocab, int64_t count,
                                    int64_t seq, uint64_t seed, bool show_progress) {
  const int32_t bos = vocab.bos_id >= 0 ? vocab.bos_id : 1;
  std::unique_ptr<ForwardPass> forward = make_fast_forward(std::move(teacher), seq);
  std::unique_ptr<Progress> progress;
  if (show_progress) progress = std::make_unique<Progress>("sample teacher", count, "sequences");
  std::vector<int32_t> text;
  for (int64_t i = 0; i < count; ++i) {
    throw_if_interrupted();
    GenerateOptions o;
    o.max_new_tokens = seq - 1;
    o.temperature = 1.0f;
    o.top_p = 1.0f;
    o.seed = seed + static_cast<uint64_t>(i);
    const GenerateStats s = generate_tokens(*forward, {bos}, o, vocab.eos_id, bos);
    text.insert(text.end(), s.tokens.begin(), s.tokens.end());
    if (!s.tokens.empty() && s.tokens.back() == bos && s.tokens.size() > 1) text.pop_back();  // the next BOS starts the next
    if (progress) progress->update(i + 1);
  }
  return text;
}

}  // namespace

std::vector<int64_t> hidden_state_layers(int64_t student_layers, int64_t teacher_layers,
                                         const std::vector<int64_t>& dropped) {
  std::vector<int64_t> map(static_cast<size_t>(student_layers));
  if (!dropped.empty() && student_layers + static_cast<int64_t>(dropped.size()) == teacher_layers) {
    std::vector<int64_t> kept;
    for (int64_t l = 0; l < teacher_layers; ++l)
      if (std::find(dropped.begin(), dropped.end(), l) == dropped.end()) kept.push_back(l);
    for (int64_t i = 0; i < student_layers; ++i)
      map[static_cast<size_t>(i)] = i + 1 < student_layers ? kept[static_cast<size_t>(i + 1)] - 1 : teacher_layers - 1;
    return map;
  }
  for (int64_t i = 0; i < student_layers; ++i)
    map[static_cast<size_t>(i)] = std::max<int64_t>(0, (i + 1) * teacher_layers / student_layers - 1);
  return map;
}

void validate_distill_loss(float temperature, float alpha, float hidden_weight, bool teacher_cache) {
  if (!(temperature > 0.0f) || !std::isfinite(temperature))
    throw Error("temperature", cat("must be a positive number, got ", temperature));
  if (!(alpha >= 0.0f && alpha <= 1.0f)) throw Error("alpha", cat("must be between 0 and 1, got ", alpha));
  if (!(hidden_weight >= 0.0f) || !std::isfinite(hidden_weight))
    throw Error("hidden_weight", cat("must be 0 (none) or positive, got ", hidden_weight));
  if (hidden_weight > 0.0f && teacher_cache)
    throw Error("hidden_weight", "hidden-state matching needs the teacher's states of every batch, and a teacher "
                                 "cache holds only its top tokens: drop the teacher cache");
}

DistillReport run_distill_job(const DistillRequest& r, const std::function<void(const TrainStepLog&)>& on_step) {
  if (r.teacher.empty()) throw Error("teacher", "no teacher given");
  const int students = !r.student.empty() + !r.student_config.empty() + r.student_prune.has_value();
  if (students != 1)
    throw Error("student", "give exactly one of `student` (a model file), `student_config` (a config.json) or "
                           "`student_prune` (the teacher, cut)");
  validate_distill_loss(r.temperature, r.alpha, r.hidden_weight, !r.teacher_cache.empty());
  if (r.teacher_samples < 0)
    throw Error("teacher_samples", cat("must be 0 (use `data`) or a count of sequences, got ", r.teacher_samples));
  if (r.teacher_samples > 0 && !r.training.data.empty())
    throw Error("teacher_samples", "the text is either `data` or sampled from the teacher, not both");
  if (r.student_prune && r.teacher_samples > 0)
    throw Error("student_prune", "the cut is scored on windows of `data`: give text files, not `teacher_samples`");
  if (!r.teacher_cache.empty() && (r.teacher_cache == r.training.output || r.teacher_cache == r.teacher))
    throw Error("teacher_cache", cat(r.teacher_cache, " is the run's output or its teacher"));
  if (!r.teacher_cache.empty() && r.cache_top_k < 1)
    throw Error("cache_top_k", cat("must be at least 1, got ", r.cache_top_k));
  if (r.student_prune && r.prune_windows < 1)
    throw Error("prune_windows", cat("must be at least 1, got ", r.prune_windows));
  validate_training_options(r.training);
  if (!r.imatrix.empty() && r.student_type.empty())
    throw Error("imatrix", "weights the scale search of a quantized student: give `student_type` too");
  if (!r.student_type.empty()) {
    parse_quantize_type("student_type", r.student_type);
    if (!is_gguf_path(r.training.output))
      throw Error("student_type", cat("a quantized student is written as GGUF: ", r.training.output,
                                      " does not end in .gguf"));
    if (r.training.output_type != "f32")
      throw Error("output_type", cat("the quantized student is written in the types of ", r.student_type, ", not ",
                                     r.training.output_type));
  }
  std::vector<std::string> inputs{r.teacher};
  for (const std::string* p : {&r.tokenizer, &r.student, &r.student_config, &r.imatrix})
    if (!p->empty()) inputs.push_back(*p);
  check_training_outputs(r.training, inputs);

  const Checkpoint teacher = load_model(r.teacher, r.tokenizer);
  if (r.student_prune) validate_structured_prune_options(teacher.config, *r.student_prune);  // before the text is read
  DistillReport report;
  report.teacher_parameters = teacher.parameter_count();

  // The student's checkpoint (its vocabulary and metadata go to the output)
  // and the student as training holds it.
  Checkpoint base;
  std::optional<TrainableModel> student;
  std::vector<int64_t> dropped_blocks;  // of a student cut from the teacher
  if (!r.student.empty()) {
    base = load_model(r.student, r.tokenizer);
    student = trainable_from_checkpoint(base);
    report.student_source = "file " + r.student;
  } else if (!r.student_config.empty()) {
    base.path = r.student_config;
    base.format = "hf";
    base.config = read_hf_config(r.student_config);
    base.vocab = teacher.vocab;  // checked against the config below
    student = init_trainable(base.config, r.training.seed);
    report.student_source = "config " + r.student_config;
  } else {
    CalibrationOptions windows;
    windows.files = r.training.data;
    windows.samples = r.prune_windows;
    windows.ctx = training_seq(r.training, teacher.config);
    windows.seed = r.training.seed;
    StructuredPruneResult cut = structured_prune(teacher, calibration_windows(*tokenizer_for(teacher), windows),
                                                 *r.student_prune);
    report.prune_summary = format_structured_prune_report(cut.report);
    dropped_blocks = cut.report.dropped_blocks;
    base = std::move(cut.checkpoint);
    student = trainable_from_checkpoint(base);
    report.student_source = cat("pruned teacher: heads -", r.student_prune->heads, " ffn_width ",
                                r.student_prune->ffn_width, " drop_blocks ", r.student_prune->drop_blocks);
  }
  if (!base.vocab) base.vocab = teacher.vocab;
  const ModelConfig& sc = student->layout.config();
  if (sc.vocab_size != teacher.config.vocab_size || !base.vocab || !teacher.vocab ||
      base.vocab->tokens != teacher.vocab->tokens)
    throw Error("student", cat("the student's vocabulary (", sc.vocab_size, " rows) is not the teacher's (",
                               teacher.config.vocab_size, " rows): distillation compares their distributions "
                               "token by token"));
  report.student_parameters = static_cast<int64_t>(student->layout.size());
  std::vector<int64_t> hidden_layers;
  if (r.hidden_weight > 0.0f) {
    if (sc.dim != teacher.config.dim)
      throw Error("hidden_weight", cat("hidden-state matching compares residual streams of one width: the student's "
                                       "is ", sc.dim, ", the teacher's ", teacher.config.dim));
    hidden_layers = hidden_state_layers(sc.n_layers, teacher.config.n_layers, dropped_blocks);
    for (size_t i = 0; i < hidden_layers.size(); ++i)
      report.hidden_layers += cat(i > 0 ? ", " : "", i, "->", hidden_layers[i]);
  }
  base.recipe = r.recipe;  // not the student file's: this output is not what its steps made
  std::unique_ptr<GgufStudentGrid> grid;
  if (!r.student_type.empty()) {
    QuantizeOptions q;
    q.type_name = r.student_type;
    q.imatrix_path = r.imatrix;
    q.recipe = base.recipe;
    q.model_name = r.training.model_name;
    grid = std::make_unique<GgufStudentGrid>(*student, base, std::move(q));
    report.student_grid = grid->describe().at("tensors");
    if (!grid->without_importance().empty())
      report.warnings.push_back(cat(r.imatrix, ": no importance for ", grid->without_importance().size(),
                                    " quantized tensor(s), e.g. ", grid->without_importance().front()));
  }

  const std::shared_ptr<const ModelWeights> teacher_weights = build_weights(teacher);
  std::vector<int32_t> text;
  if (r.teacher_samples > 0) {
    const int64_t seq = training_seq(r.training, teacher.config);
    if (seq > teacher.config.context_length)
      throw Error("seq", cat(seq, " tokens per sequence is beyond the teacher's context of ", teacher.config.context_length));
    text = sample_teacher(teacher_weights, *teacher.vocab, r.teacher_samples, seq, r.training.seed,
                          r.training.show_progress);
    report.sampled_tokens = static_cast<int64_t>(text.size());
  } else {
    text = training_text(base, r.training);
  }
  std::unique_ptr<TeacherCache> cache;
  if (!r.teacher_cache.empty()) {
    if (r.cache_top_k > teacher.config.vocab_size)
      throw Error("cache_top_k", cat(r.cache_top_k, " is more than the vocabulary's ", teacher.config.vocab_size,
                                     " tokens"));
    const TeacherCacheKey key{r.cache_top_k, teacher.config.vocab_size, r.training.batch,
                              training_seq(r.training, student->layout.config()), r.training.seed,
                              fnv1a64_ids(text), teacher_file_digest(r.teacher)};
    cache = std::make_unique<TeacherCache>(r.teacher_cache, key);
  }
  DistillationObjective objective(teacher_weights, r.temperature, r.alpha, cache.get(), r.cache_top_k,
                                  r.hidden_weight, hidden_layers, report);
  std::string source = "distill from " + r.teacher + ", student " + report.student_source;
  if (r.teacher_samples > 0) source += cat(", text: ", r.teacher_samples, " teacher samples");
  if (grid) source += cat(", held on ", r.student_type, " grids");
  report.training = run_training(*student, base, source, r.training, std::move(text), objective, on_step, grid.get());
  if (grid) report.start_grid_share = grid->start_grid_share();
  return report;
}

}  // namespace lmpack
