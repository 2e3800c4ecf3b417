// run_train_job; see train_job.h.
#include "train/train_job.h"

#include "core/error.h"
#include "model/hf_config.h"
#include "model/load_model.h"
#include "tokenizer/vocab_readers.h"
#include "train/init.h"

namespace lmpack {
namespace {

// A checkpoint without tensors: a config.json's shape and a vocabulary.
Checkpoint checkpoint_of_config(const std::string& config, const std::string& tokenizer) {
  Checkpoint c;
  c.path = config;
  c.format = "hf";
  c.config = read_hf_config(config);
  c.vocab = load_vocab(tokenizer);
  check_vocab_fits(*c.vocab, c.config.vocab_size, tokenizer);
  return c;
}

}  // namespace

TrainReport run_train_job(const TrainRequest& r, const std::function<void(const TrainStepLog&)>& on_step) {
  const int sources = !r.model.empty() + !r.like.empty() + !r.config.empty();
  if (sources != 1) throw Error("model", "give exactly one of `model` (continue training it), `like` (a fresh model "
                                         "of its shape) or `config` (a fresh model from a config.json)");
  if (!r.config.empty() && r.tokenizer.empty())
    throw Error("tokenizer", "a model made from `config` needs a vocabulary: pass `tokenizer`");
  validate_training_options(r.training);
  std::vector<std::string> inputs;
  for (const std::string* p : {&r.model, &r.like, &r.config, &r.tokenizer})
    if (!p->empty()) inputs.push_back(*p);
  check_training_outputs(r.training, inputs);

  // The model to train and the checkpoint its output takes its vocabulary from.
  const Checkpoint base = r.config.empty() ? load_model(r.model.empty() ? r.like : r.model, r.tokenizer)
                                           : checkpoint_of_config(r.config, r.tokenizer);
  TrainableModel model =
      r.model.empty() ? init_trainable(base.config, r.training.seed) : trainable_from_checkpoint(base);
  const std::string source = !r.model.empty() ? "model " + r.model : !r.like.empty() ? "like " + r.like
                                                                                      : "config " + r.config;
  NextTokenObjective objective(base.config.vocab_size);
  return run_training(model, base, source, r.training, training_text(base, r.training), objective, on_step);
}

}  // namespace lmpack
