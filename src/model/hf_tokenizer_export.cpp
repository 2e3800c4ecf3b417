// write_hf_tokenizer_files; see hf_tokenizer_export.h.
#include "model/hf_tokenizer_export.h"

#include <nlohmann/json.hpp>

#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/text_file.h"
#include "tokenizer/hf_tokenizer_files.h"
#include "tokenizer/vocab_readers.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMaxCopiedBytes = uint64_t{256} << 20;  // tokenizer.json of a 256K vocabulary is ~20 MB

bool same_vocab(const Vocab& a, const Vocab& b) {
  return a.model == b.model && a.pre == b.pre && a.tokens == b.tokens && a.token_types == b.token_types &&
         a.merges == b.merges && a.bos_id == b.bos_id && a.eos_id == b.eos_id && a.unk_id == b.unk_id &&
         a.add_bos == b.add_bos && a.add_eos == b.add_eos && a.add_space_prefix == b.add_space_prefix;
}

// The checkpoint's source folder when its tokenizer.json gives the
// checkpoint's vocabulary, else "".
std::string source_tokenizer_folder(const Checkpoint& ckpt) {
  std::error_code ec;
  if (ckpt.format != "hf" || !fs::is_directory(ckpt.path, ec)) return "";
  const std::string json = (fs::path(ckpt.path) / "tokenizer.json").string();
  if (!fs::is_regular_file(json, ec)) return "";
  try {
    return same_vocab(load_tokenizer_json_vocab(json), *ckpt.vocab) ? ckpt.path : "";
  } catch (const Error&) {
    return "";  // the checkpoint's vocabulary came from elsewhere
  }
}

void write_file(const AtomicFolder& folder, const std::string& name, const std::string& text) {
  AtomicFile f(folder.file(name));
  f.write(text);
  f.commit();
}

std::string generation_config(const Vocab& v) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  if (v.bos_id >= 0) j["bos_token_id"] = v.bos_id;
  if (v.eos_id >= 0) j["eos_token_id"] = v.eos_id;
  if (v.pad_id >= 0) j["pad_token_id"] = v.pad_id;
  return j.dump(2) + "\n";
}

}  // namespace

const std::vector<std::string>& hf_tokenizer_file_names() {
  static const std::vector<std::string> kNames = {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                                  "generation_config.json"};
  return kNames;
}

void write_hf_tokenizer_files(const Checkpoint& ckpt, const AtomicFolder& folder) {
  if (!ckpt.vocab) return;
  const std::string source = source_tokenizer_folder(ckpt);
  std::optional<HfTokenizerFiles> written;
  auto from_vocab = [&]() -> const HfTokenizerFiles& {
    if (!written) written = hf_tokenizer_files(*ckpt.vocab, ckpt.config.context_length, ckpt.path);
    return *written;
  };
  for (const std::string& name : hf_tokenizer_file_names()) {
    const std::string copy = source.empty() ? "" : (fs::path(source) / name).string();
    std::error_code ec;
    if (!copy.empty() && fs::is_regular_file(copy, ec)) {
      write_file(folder, name, read_text_file(copy, kMaxCopiedBytes, name.c_str()));
    } else if (name == "tokenizer.json") {
      write_file(folder, name, from_vocab().tokenizer_json);
    } else if (name == "tokenizer_config.json") {
      write_file(folder, name, from_vocab().tokenizer_config_json);
    } else if (name == "special_tokens_map.json") {
      write_file(folder, name, from_vocab().special_tokens_map_json);
    } else {
      write_file(folder, name, generation_config(*ckpt.vocab));
    }
  }
}

}  // namespace lmpack
