#include "formats/int_packing.h"

#include "core/error.h"
#include "core/parallel.h"

namespace lmpack {
namespace {

// A packing unit: the fewest values that fill whole words (32 values in 3
// words at 3 bits, 32/bits values in one word otherwise).
struct Unit {
  int values;
  int words;
};

Unit gptq_unit(int bits) { return bits == 3 ? Unit{32, 3} : Unit{32 / bits, 1}; }

bool valid_gptq_bits(int bits) { return bits == 2 || bits == 3 || bits == 4 || bits == 8; }

void check_gptq(int64_t n, int bits) {
  LMPACK_CHECK(gptq_packing_fits(n, bits), cat("gptq packing: ", n, " values of ", bits, " bits"));
}

// Packs one unit: value j (read at src[j * src_stride]) goes to bits
// [j·bits, (j+1)·bits) of the stream in dst[0], dst[dst_stride], ...
template <typename T, typename Map>
void pack_unit(int32_t* dst, int64_t dst_stride, const T* src, int64_t src_stride, int bits, Unit u, Map map) {
  uint32_t w[3] = {0, 0, 0};
  const uint32_t mask = (uint32_t{1} << bits) - 1;
  for (int j = 0; j < u.values; ++j) {
    const uint32_t v = static_cast<uint32_t>(map(src[j * src_stride])) & mask;
    const int pos = j * bits, word = pos >> 5, shift = pos & 31;
    w[word] |= v << shift;
    if (shift + bits > 32) w[word + 1] |= v >> (32 - shift);
  }
  for (int k = 0; k < u.words; ++k) dst[k * dst_stride] = static_cast<int32_t>(w[k]);
}

// The inverse of pack_unit: value j is written to dst[j * dst_stride].
template <typename T, typename Map>
void unpack_unit(T* dst, int64_t dst_stride, const int32_t* src, int64_t src_stride, int bits, Unit u, Map map) {
  uint32_t w[3] = {0, 0, 0};
  for (int k = 0; k < u.words; ++k) w[k] = static_cast<uint32_t>(src[k * src_stride]);
  const uint32_t mask = (uint32_t{1} << bits) - 1;
  for (int j = 0; j < u.values; ++j) {
    const int pos = j * bits, word = pos >> 5, shift = pos & 31;
    uint32_t v = w[word] >> shift;
    if (shift + bits > 32) v |= w[word + 1] << (32 - shift);
    dst[j * dst_stride] = static_cast<T>(map(v & mask));
  }
}

}  // namespace

bool gptq_packing_fits(int64_t n, int bits) {
  return valid_gptq_bits(bits) && n >= 0 && n % gptq_unit(bits).values == 0;
}

int64_t gptq_packed_words(int64_t n, int bits) {
  check_gptq(n, bits);
  const Unit u = gptq_unit(bits);
  return n / u.values * u.words;
}

void pack_gptq_qweight(int32_t* qweight, const uint8_t* codes, int64_t out, int64_t in, int bits) {
  check_gptq(in, bits);
  const Unit u = gptq_unit(bits);
  // Unit t covers inputs [t·values, (t+1)·values) and qweight rows [t·words, (t+1)·words).
  parallel_for(in / u.values, [&](int64_t t) {
    for (int64_t o = 0; o < out; ++o)
      pack_unit(qweight + t * u.words * out + o, out, codes + o * in + t * u.values, 1, bits, u,
                [](uint8_t v) { return v; });
  });
}

void unpack_gptq_qweight(uint8_t* codes, const int32_t* qweight, int64_t out, int64_t in, int bits) {
  check_gptq(in, bits);
  const Unit u = gptq_unit(bits);
  parallel_for(in / u.values, [&](int64_t t) {
    for (int64_t o = 0; o < out; ++o)
      unpack_unit(codes + o * in + t * u.values, 1, qweight + t * u.words * out + o, out, bits, u,
                  [](uint32_t v) { return v; });
  });
}

void pack_gptq_qzeros(int32_t* qzeros, const int32_t* zeros, int64_t n_groups, int64_t out, int bits) {
  check_gptq(out, bits);
  const Unit u = gptq_unit(bits);
  const int64_t row_words = out / u.values * u.words;
  for (int64_t g = 0; g < n_groups; ++g)
    for (int64_t t = 0; t < out / u.values; ++t)
      pack_unit(qzeros + g * row_words + t * u.words, 1, zeros + g * out + t * u.values, 1, bits, u,
                [](int32_t z) { return static_cast<uint32_t>(z - 1); });
}

void unpack_gptq_qzeros(int32_t* zeros, const int32_t* qzeros, int64_t n_groups, int64_t out, int bits) {
  check_gptq(out, bits);
  const Unit u = gptq_unit(bits);
  const int64_t row_words = out / u.values * u.words;
  for (int64_t g = 0; g < n_groups; ++g)
    for (int64_t t = 0; t < out / u.values; ++t)
      unpack_unit(zeros + g * out + t * u.values, 1, qzeros + g * row_words + t * u.words, 1, bits, u,
                  [](uint32_t v) { return static_cast<int32_t>(v) + 1; });
}

namespace {

// One AWQ word from 8 values read at src[0], src[stride], ..., src[7·stride].
template <typename T>
int32_t awq_word(const T* src, int64_t stride) {
  uint32_t w = 0;
  for (int i = 0; i < 8; ++i) w |= (static_cast<uint32_t>(src[kAwqOrder[i] * stride]) & 0xF) << (4 * i);
  return static_cast<int32_t>(w);
}

template <typename T>
void awq_unword(T* dst, int64_t stride, int32_t word) {
  const uint32_t w = static_cast<uint32_t>(word);
  for (int i = 0; i < 8; ++i) dst[kAwqOrder[i] * stride] = static_cast<T>((w >> (4 * i)) & 0xF);
}

}  // namespace

void pack_awq_qweight(int32_t* qweight, const uint8_t* codes, int64_t out, int64_t in) {
  LMPACK_CHECK(out % 8 == 0, cat("awq packing: out ", out));
  const int64_t words = out / 8;
  parallel_for(in, [&](int64_t c) {
    for (int64_t k = 0; k < words; ++k) qweight[c * words + k] = awq_word(codes + 8 * k * in + c, in);
  });
}

void unpack_awq_qweight(uint8_t* codes, const int32_t* qweight, int64_t out, int64_t in) {
  LMPACK_CHECK(out % 8 == 0, cat("awq packing: out ", out));
  const int64_t words = out / 8;
  parallel_for(in, [&](int64_t c) {
    for (int64_t k = 0; k < words; ++k) awq_unword(codes + 8 * k * in + c, in, qweight[c * words + k]);
  });
}

void pack_awq_qzeros(int32_t* qzeros, const int32_t* zeros, int64_t n_groups, int64_t out) {
  LMPACK_CHECK(out % 8 == 0, cat("awq packing: out ", out));
  for (int64_t g = 0; g < n_groups; ++g)
    for (int64_t k = 0; k < out / 8; ++k) qzeros[g * (out / 8) + k] = awq_word(zeros + g * out + 8 * k, 1);
}

void unpack_awq_qzeros(int32_t* zeros, const int32_t* qzeros, int64_t n_groups, int64_t out) {
  LMPACK_CHECK(out % 8 == 0, cat("awq packing: out ", out));
  for (int64_t g = 0; g < n_groups; ++g)
    for (int64_t k = 0; k < out / 8; ++k) awq_unword(zeros + g * out + 8 * k, 1, qzeros[g * (out / 8) + k]);
}

int64_t ct_packed_words(int64_t n, int bits) {
  LMPACK_CHECK(bits == 4 || bits == 8, cat("compressed-tensors packing: ", bits, " bits"));
  const int64_t pf = 32 / bits;
  return (n + pf - 1) / pf;
}

void pack_ct_rows(int32_t* packed, const uint8_t* values, int64_t rows, int64_t cols, int bits) {
  const int64_t words = ct_packed_words(cols, bits), pf = 32 / bits;
  const uint32_t mask = (uint32_t{1} << bits) - 1;
  parallel_for(rows, [&](int64_t r) {
    for (int64_t w = 0; w < words; ++w) {
      uint32_t word = 0;
      for (int64_t j = 0; j < pf && w * pf + j < cols; ++j)
        word |= (static_cast<uint32_t>(values[r * cols + w * pf + j]) & mask) << (j * bits);
      packed[r * words + w] = static_cast<int32_t>(word);
    }
  });
}

void unpack_ct_rows(uint8_t* values, const int32_t* packed, int64_t rows, int64_t cols, int bits) {
  const int64_t words = ct_packed_words(cols, bits), pf = 32 / bits;
  const uint32_t mask = (uint32_t{1} << bits) - 1;
  parallel_for(rows, [&](int64_t r) {
    for (int64_t c = 0; c < cols; ++c) {
      const uint32_t word = static_cast<uint32_t>(packed[r * words + c / pf]);
      values[r * cols + c] = static_cast<uint8_t>((word >> ((c % pf) * bits)) & mask);
    }
  });
}

void pack_ct_columns(int32_t* packed, const int32_t* values, int64_t rows, int64_t cols, int bits) {
  const int64_t words = ct_packed_words(rows, bits), pf = 32 / bits;
  const uint32_t mask = (uint32_t{1} << bits) - 1;
  for (int64_t w = 0; w < words; ++w)
    for (int64_t c = 0; c < cols; ++c) {
      uint32_t word = 0;
      for (int64_t j = 0; j < pf && w * pf + j < rows; ++j)
        word |= (static_cast<uint32_t>(values[(w * pf + j) * cols + c]) & mask) << (j * bits);
      packed[w * cols + c] = static_cast<int32_t>(word);
    }
}

void unpack_ct_columns(int32_t* values, const int32_t* packed, int64_t rows, int64_t cols, int bits) {
  const int64_t pf = 32 / bits;
  const uint32_t mask = (uint32_t{1} << bits) - 1;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const uint32_t word = static_cast<uint32_t>(packed[(r / pf) * cols + c]);
      values[r * cols + c] = static_cast<int32_t>((word >> ((r % pf) * bits)) & mask);
    }
}

}  // namespace lmpack
