// `lmpack tokenize MODEL --text STR [--no-bos] [--tokenizer PATH]`: token ids
// of a string, separated by single spaces on one line. MODEL may be a
// vocabulary-only GGUF or any file load_vocab() reads.
#include <cstdio>
#include <string>

#include "cli_common.h"
#include "core/error.h"
#include "model/load_model.h"
#include "tokenizer/vocab_readers.h"

namespace lmpack::cli {
namespace {

struct TokenizeOptions {
  std::string model;
  std::string tokenizer;
  std::string text;
  bool no_bos = false;
};

}  // namespace

Command add_tokenize_command(CLI::App& parent) {
  auto opts = std::make_shared<TokenizeOptions>();
  Command cmd;
  cmd.app = parent.add_subcommand("tokenize", "Print the token ids of a text");
  cmd.app->add_option("MODEL", opts->model, "Model or vocabulary file (GGUF, tokenizer.json, ...)")->required();
  cmd.app->add_option("--text", opts->text, "Text to tokenize")->required();
  cmd.app->add_flag("--no-bos", opts->no_bos, "Do not prepend BOS");
  cmd.app->add_option("--tokenizer", opts->tokenizer, "Vocabulary from elsewhere");
  cmd.run = [opts] {
    Vocab vocab = load_vocab_for(opts->model, opts->tokenizer);
    const std::string where = opts->tokenizer.empty() ? opts->model : opts->tokenizer;
    std::unique_ptr<Tokenizer> tok = make_tokenizer(std::move(vocab), where);
    std::vector<int32_t> ids = tok->encode(opts->text, !opts->no_bos);
    std::string line;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i) line += ' ';
      line += std::to_string(ids[i]);
    }
    std::printf("%s\n", line.c_str());
  };
  return cmd;
}

}  // namespace lmpack::cli
