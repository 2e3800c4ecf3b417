// GgufStudentGrid; see gguf_student_grid.h.
#include "pipeline/gguf_student_grid.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/hash.h"
#include "core/parallel.h"
#include "formats/format_sizes.h"
#include "grids/format_grid.h"
#include "io/imatrix.h"

namespace lmpack {
namespace {

// The encoded blocks of a projection, handed to quantize_to_gguf as its
// calibrated tensors so that the file holds exactly them.
class HeldBlocks final : public CalibratedTensors {
 public:
  std::map<std::string, QuantizedMatrix> matrices;
  bool handles(const std::string& name) const override { return matrices.count(name) != 0; }
  std::vector<float> take_f32(const std::string& name) override {
    throw Error(name, "is not a held matrix");  // only matrices are held
  }
  QuantizedMatrix take_matrix(const std::string& name) override { return std::move(matrices.at(name)); }
};

double weighted_error(const float* x, const float* y, const float* importance, int64_t n) {
  double e = 0.0;
  for (int64_t j = 0; j < n; ++j) {
    const double d = static_cast<double>(x[j]) - static_cast<double>(y[j]);
    e += (importance != nullptr ? importance[j] : 1.0) * d * d;
  }
  return e;
}

}  // namespace

GgufStudentGrid::GgufStudentGrid(const TrainableModel& model, const Checkpoint& start, QuantizeOptions options)
    : options_(std::move(options)) {
  options_.show_progress = false;
  if (options_.imatrix == nullptr && !options_.imatrix_path.empty())
    options_.imatrix = std::make_shared<const ImportanceMatrix>(read_imatrix(options_.imatrix_path));
  plan_ = plan_gguf(checkpoint_from_trainable(model, start), options_);
  if (!plan_.stacked.empty())
    throw Error(plan_.stacked.begin()->first, "is stacked from several tensors (Phi-3's ffn_up), which a training grid "
                                              "does not hold yet");
  const ImportanceMatrix none;
  const ImportanceMatrix& imatrix = options_.imatrix ? *options_.imatrix : none;

  std::map<std::string, int> counts;
  uint64_t digest = kFnv1aOffset;
  for (const MixChoice& choice : plan_.choices) {
    const ParameterTensor* t = model.layout.find(choice.name);
    const std::string type(dtype_name(choice.type));
    digest = fnv1a64(choice.name.data(), choice.name.size(), digest);
    digest = fnv1a64(type.data(), type.size(), digest);
    if (t == nullptr || choice.type == DType::F32) continue;  // rope_freqs, norms
    if (t->shape.size() != 2)
      throw Error(choice.name, cat("a 1-D tensor planned as ", type, ": only matrices are held on a grid"));
    Held h{choice.name, t->offset, t->shape[0], t->shape[1], &format_ops(choice.type), nullptr,
           dtype_bytes(choice.type, t->shape[1]), {}};
    if (h.ops->quantize_row == nullptr) throw Error(type, cat("cannot be written (needed for ", choice.name, ")"));
    const TensorImportance imp = tensor_importance(plan_.mix, choice, h.cols, imatrix, options_.imatrix_path);
    if (imp.missing) without_importance_.push_back(choice.name);
    if (imp.values != nullptr) {
      h.importance = imp.values->data();
      digest = fnv1a64(h.importance, static_cast<size_t>(h.cols) * sizeof(float), digest);
    }
    auto stored = start.tensors.find(choice.name);
    if (h.ops->row_grid != nullptr && h.ops->set_row_codes != nullptr && stored != start.tensors.end() &&
        stored->second.dtype == choice.type && stored->second.shape == t->shape &&
        stored->second.nbytes == h.row_bytes * static_cast<size_t>(h.rows)) {
      h.start.assign(stored->second.data, stored->second.data + stored->second.nbytes);
      digest = fnv1a64(h.start.data(), h.start.size(), digest);
      start_blocks_ += h.rows * (h.cols / h.ops->block_elements);
    }
    held_.push_back(std::move(h));
    ++counts[type];
  }
  std::sort(held_.begin(), held_.end(), [](const Held& a, const Held& b) { return a.offset < b.offset; });
  size_ = model.layout.size();
  std::string types;
  for (const auto& [type, n] : counts) types += cat(types.empty() ? "" : ", ", type, " x", n);
  describe_ = {{"type", plan_.mix.type.name},
               {"tensors", types},
               {"imatrix", options_.imatrix_path.empty() ? std::string("none") : options_.imatrix_path},
               {"digest", cat(digest)}};
}

void GgufStudentGrid::encode(const Held& h, const float* latent, float* out, uint8_t* bytes) {
  const int64_t block = h.ops->block_elements;
  const size_t block_bytes = static_cast<size_t>(h.ops->block_bytes);
  parallel_for(h.rows, [&](int64_t r) {
    const float* x = latent + r * h.cols;
    float* y = out + r * h.cols;
    uint8_t* row = bytes + r * h.row_bytes;
    h.ops->quantize_row(row, x, h.cols, h.importance);  // the fresh fit
    h.ops->dequantize_row(y, row, h.cols);
    if (h.start.empty()) return;
    std::vector<float> scale(block), offset(block), on_start(block);
    std::vector<int32_t> codes(block);
    std::vector<uint8_t> candidate(block_bytes);
    int64_t kept = 0;
    for (int64_t c0 = 0; c0 < h.cols; c0 += block) {
      const size_t at = static_cast<size_t>(c0 / block) * block_bytes;
      std::memcpy(candidate.data(), h.start.data() + r * h.row_bytes + at, block_bytes);
      h.ops->row_grid(scale.data(), offset.data(), candidate.data(), block);
      for (int64_t j = 0; j < block; ++j) codes[j] = block_grid_code(x[c0 + j], scale[j], offset[j], *h.ops);
      h.ops->set_row_codes(candidate.data(), codes.data(), block);
      h.ops->dequantize_row(on_start.data(), candidate.data(), block);
      const float* imp = h.importance != nullptr ? h.importance + c0 : nullptr;
      if (weighted_error(x + c0, on_start.data(), imp, block) <= weighted_error(x + c0, y + c0, imp, block)) {
        std::memcpy(row + at, candidate.data(), block_bytes);
        std::copy(on_start.begin(), on_start.end(), y + c0);
        ++kept;
      }
    }
    kept_on_start_ += kept;
  });
}

void GgufStudentGrid::project(const float* latent, float* projected) {
  kept_on_start_ = 0;
  size_t at = 0;  // the tensors between the held ones are copied
  std::vector<uint8_t> bytes;
  for (const Held& h : held_) {
    std::copy(latent + at, latent + h.offset, projected + at);
    bytes.resize(h.row_bytes * static_cast<size_t>(h.rows));
    encode(h, latent + h.offset, projected + h.offset, bytes.data());
    at = h.offset + static_cast<size_t>(h.rows * h.cols);
  }
  std::copy(latent + at, latent + size_, projected + at);
}

void GgufStudentGrid::write(const TrainableModel& latent, const Checkpoint& base, const std::string& path) {
  kept_on_start_ = 0;
  HeldBlocks blocks;
  std::vector<float> decoded;
  for (const Held& h : held_) {
    QuantizedMatrix m = make_encoded_matrix(h.ops->type, h.rows, h.cols);
    decoded.resize(static_cast<size_t>(h.rows * h.cols));
    encode(h, latent.values.data() + h.offset, decoded.data(), m.data.data());
    blocks.matrices.emplace(h.name, std::move(m));
  }
  quantize_to_gguf(checkpoint_from_trainable(latent, base), path, options_, &blocks, &plan_);
}

std::map<std::string, std::string> GgufStudentGrid::describe() const { return describe_; }

double GgufStudentGrid::start_grid_share() const {
  return start_blocks_ > 0 ? static_cast<double>(kept_on_start_.load()) / static_cast<double>(start_blocks_) : 0.0;
}

}  // namespace lmpack
