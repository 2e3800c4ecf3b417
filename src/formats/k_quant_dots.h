// Dot products of the k-quants (Q2_K ... Q6_K) with Q8_K activations, one
// per instruction set: *_scalar (always built; the oracle in tests) in each
// format's file, *_avx2 in k_quant_dots_avx2.cpp, *_avx512 in
// k_quant_dots_avx512.cpp. Call a SIMD variant only when detected_isa()
// allows it; format_ops(type).dot picks the best one once.
//
// Every variant computes, per super-block, the same two exact integers (the
// scale-weighted quant products and, for Q2_K/Q4_K/Q5_K, the min-weighted
// bsums) and folds them into the float sum with k_dot_block_term, so the
// variants agree with the scalar reference up to float rounding only.
// Signature (DotFn): n elements (a multiple of 256); w: [n / 256] blocks of
// the stored format; a: [n / 256] BlockQ8_K.
#pragma once

#include <cstdint>

namespace lmpack {

// d * isum - dmin * msum, the one float step of every variant. Kept out of
// line so that every variant rounds it the same way.
float k_dot_block_term(float d, int32_t isum, float dmin, int32_t msum);

float dot_q2_k_q8_k_scalar(int64_t n, const void* w, const void* a);
float dot_q3_k_q8_k_scalar(int64_t n, const void* w, const void* a);
float dot_q4_k_q8_k_scalar(int64_t n, const void* w, const void* a);
float dot_q5_k_q8_k_scalar(int64_t n, const void* w, const void* a);
float dot_q6_k_q8_k_scalar(int64_t n, const void* w, const void* a);

float dot_q2_k_q8_k_avx2(int64_t n, const void* w, const void* a);
float dot_q3_k_q8_k_avx2(int64_t n, const void* w, const void* a);
float dot_q4_k_q8_k_avx2(int64_t n, const void* w, const void* a);
float dot_q5_k_q8_k_avx2(int64_t n, const void* w, const void* a);
float dot_q6_k_q8_k_avx2(int64_t n, const void* w, const void* a);

float dot_q2_k_q8_k_avx512(int64_t n, const void* w, const void* a);
float dot_q3_k_q8_k_avx512(int64_t n, const void* w, const void* a);
float dot_q4_k_q8_k_avx512(int64_t n, const void* w, const void* a);
float dot_q5_k_q8_k_avx512(int64_t n, const void* w, const void* a);
float dot_q6_k_q8_k_avx512(int64_t n, const void* w, const void* a);

}  // namespace lmpack
