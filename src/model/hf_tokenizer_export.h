// The tokenizer side of every Hugging Face folder lmpack writes (save_hf,
// the GPTQ/AWQ exports), so that the folder is self-contained: transformers'
// from_pretrained and vLLM find the tokenizer and the generation defaults in
// it.
//
// Files: tokenizer.json, tokenizer_config.json, special_tokens_map.json and
// generation_config.json. When the checkpoint is a Hugging Face folder whose
// own tokenizer.json gives the checkpoint's vocabulary (no other `tokenizer`
// was given), those files are copied from it byte for byte, so that a chat
// template, added-token flags and sampling defaults survive; any of them
// the source lacks is written. Otherwise they are written from the
// vocabulary (tokenizer/hf_tokenizer_files.h), and generation_config.json
// holds the BOS/EOS ids. A checkpoint without a vocabulary gets none of them.
#pragma once

#include <string>
#include <vector>

#include "core/atomic_folder.h"
#include "model/checkpoint.h"

namespace lmpack {

// The names above, for the outputs' replaceable entries (hf_output_files).
const std::vector<std::string>& hf_tokenizer_file_names();

// Writes the files into the folder being assembled. Throws Error(ckpt.path,
// ...) for a vocabulary with no tokenizer.json form (hf_tokenizer_files).
void write_hf_tokenizer_files(const Checkpoint& ckpt, const AtomicFolder& folder);

}  // namespace lmpack
