// Tests only: copies a real GGUF with chosen edits (metadata set or dropped,
// tensors dropped, tensor bytes patched), through lmpack's own reader and
// writer, to make the malformed-but-parseable models that audits find
// (a context length of 2^62, a block_count smaller than the blocks present,
// a NaN block scale ...).
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "io/gguf.h"
#include "io/gguf_writer.h"

namespace lmpack::testing {

struct GgufEdit {
  std::map<std::string, GgufValue> set;  // replaces the key's value in place, or appends it
  std::set<std::string> drop_keys;
  std::set<std::string> drop_tensors;
  // Called with each kept tensor's bytes, which it may change (not resize).
  std::function<void(const TensorInfo& tensor, std::string& bytes)> patch;
};

inline GgufValue gguf_u64_value(uint64_t v) {
  GgufValue g;
  g.type = GgufType::kUint64;
  g.u = v;
  if (v <= static_cast<uint64_t>(INT64_MAX)) g.i = static_cast<int64_t>(v);
  return g;
}

inline GgufValue gguf_u32_value(uint32_t v) {
  GgufValue g;
  g.type = GgufType::kUint32;
  g.u = v;
  g.i = v;
  return g;
}

inline void rewrite_gguf(const std::string& in, const std::string& out, const GgufEdit& edit) {
  const GgufFile g = read_gguf(in);
  GgufWriter w(out, g.alignment);
  std::set<std::string> done;
  for (const auto& [key, value] : g.metadata) {
    if (key == "general.alignment" || edit.drop_keys.count(key)) continue;
    auto it = edit.set.find(key);
    w.add(key, it != edit.set.end() ? it->second : value);
    done.insert(key);
  }
  for (const auto& [key, value] : edit.set)
    if (!done.count(key)) w.add(key, value);
  std::vector<const TensorInfo*> kept;
  for (const TensorInfo& t : g.tensors)
    if (!edit.drop_tensors.count(t.name)) {
      w.add_tensor(t.name, t.dtype, t.shape);
      kept.push_back(&t);
    }
  w.begin_data();
  for (const TensorInfo* t : kept) {
    std::string bytes(reinterpret_cast<const char*>(t->data), t->nbytes);
    if (edit.patch) edit.patch(*t, bytes);
    w.write_tensor(t->name, bytes.data(), bytes.size());
  }
  w.finish();
}

}  // namespace lmpack::testing
