// One attention query against a key/value cache row: the inner loop of every decoding pass. Keys and
// values are read in place ([slot][head_dim] for one batch row and head), as float32 or as bfloat16 (the
// upper halves of float32 values, widened on load); the scores go to a scratch row. x86-64 with AVX2+FMA
// (checked at run time) uses 8-wide dot products and value sums when head_dim is a multiple of 8;
// elsewhere a portable loop. Each body is written once, over a load macro per element type.
#include "ckernels.h"
#include "cpu.h"
#include <math.h>

static inline int visible(const bool *written, int64_t slot, int64_t last) {
    return written == 0 || written[slot] || slot == last;
}

static inline float bf16_to_f32(uint16_t b) {
    union { uint32_t u; float f; } v = { (uint32_t)b << 16 };
    return v.f;
}

#define F32_AT(p, i) ((p)[i])
#define BF16_AT(p, i) bf16_to_f32((p)[i])

#define ATTEND_PORTABLE(NAME, T, AT)                                                                      \
static void NAME(const float *q, const T *keys, const T *values, int64_t last, const bool *written,     \
                 int64_t hd, float scale, float *scores, float *out) {                                    \
    float max_score = -INFINITY;                                                                          \
    for (int64_t s = 0; s <= last; s++) {                                                                 \
        if (!visible(written, s, last)) { scores[s] = -INFINITY; continue; }                              \
        float acc = 0;                                                                                    \
        for (int64_t d = 0; d < hd; d++) acc += q[d] * AT(keys, s * hd + d);                              \
        scores[s] = acc * scale;                                                                          \
        if (scores[s] > max_score) max_score = scores[s];                                                 \
    }                                                                                                     \
    for (int64_t d = 0; d < hd; d++) out[d] = 0;                                                          \
    float sum = 0;                                                                                        \
    for (int64_t s = 0; s <= last; s++) {                                                                 \
        if (scores[s] == -INFINITY) continue;                                                             \
        float p = expf(scores[s] - max_score);                                                            \
        sum += p;                                                                                         \
        for (int64_t d = 0; d < hd; d++) out[d] += p * AT(values, s * hd + d);                            \
    }                                                                                                     \
    for (int64_t d = 0; d < hd; d++) out[d] /= sum;                                                       \
}

ATTEND_PORTABLE(attend_portable_f32, float, F32_AT)
ATTEND_PORTABLE(attend_portable_bf16, uint16_t, BF16_AT)

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* 8 bfloat16 values at p widened to floats (zero-extend, shift into the upper halves). */
AVX2 static inline __m256 load8_bf16(const uint16_t *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
}

#define LOAD8_F32(p) _mm256_loadu_ps(p)
#define LOAD8_BF16(p) load8_bf16(p)

#define ATTEND_AVX2(NAME, T, LOAD8)                                                                       \
AVX2 static void NAME(const float *q, const T *keys, const T *values, int64_t last, const bool *written, \
                      int64_t hd, float scale, float *scores, float *out) {                               \
    float max_score = -INFINITY;                                                                          \
    for (int64_t s = 0; s <= last; s++) {                                                                 \
        if (!visible(written, s, last)) { scores[s] = -INFINITY; continue; }                              \
        const T *k = keys + s * hd;                                                                       \
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();                                        \
        int64_t d = 0;                                                                                    \
        for (; d + 16 <= hd; d += 16) {                                                                   \
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), LOAD8(k + d), a0);                               \
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + d + 8), LOAD8(k + d + 8), a1);                       \
        }                                                                                                 \
        if (d < hd) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), LOAD8(k + d), a0);                       \
        scores[s] = hsum(_mm256_add_ps(a0, a1)) * scale;                                                  \
        if (scores[s] > max_score) max_score = scores[s];                                                 \
    }                                                                                                     \
    float sum = 0;                                                                                        \
    for (int64_t d = 0; d < hd; d += 8) _mm256_storeu_ps(out + d, _mm256_setzero_ps());                   \
    for (int64_t s = 0; s <= last; s++) {                                                                 \
        if (scores[s] == -INFINITY) continue;                                                             \
        float p = expf(scores[s] - max_score);                                                            \
        sum += p;                                                                                         \
        __m256 pv = _mm256_set1_ps(p);                                                                    \
        const T *v = values + s * hd;                                                                     \
        for (int64_t d = 0; d < hd; d += 8)                                                               \
            _mm256_storeu_ps(out + d, _mm256_fmadd_ps(pv, LOAD8(v + d), _mm256_loadu_ps(out + d)));       \
    }                                                                                                     \
    __m256 inv = _mm256_set1_ps(1 / sum);                                                                 \
    for (int64_t d = 0; d < hd; d += 8) _mm256_storeu_ps(out + d, _mm256_mul_ps(_mm256_loadu_ps(out + d), inv)); \
}

ATTEND_AVX2(attend_avx2_f32, float, LOAD8_F32)
ATTEND_AVX2(attend_avx2_bf16, uint16_t, LOAD8_BF16)

#endif

void zipar_attend_one(const float *q, const float *keys, const float *values, int64_t last,
                      const bool *written, int64_t head_dim, float scale, float *scores, float *out) {
#if defined(__x86_64__)
    if (head_dim % 8 == 0 && zipar_vector_level() >= 1) {
        attend_avx2_f32(q, keys, values, last, written, head_dim, scale, scores, out);
        return;
    }
#endif
    attend_portable_f32(q, keys, values, last, written, head_dim, scale, scores, out);
}

void zipar_attend_one_bf16(const float *q, const uint16_t *keys, const uint16_t *values, int64_t last,
                           const bool *written, int64_t head_dim, float scale, float *scores, float *out) {
#if defined(__x86_64__)
    if (head_dim % 8 == 0 && zipar_vector_level() >= 1) {
        attend_avx2_bf16(q, keys, values, last, written, head_dim, scale, scores, out);
        return;
    }
#endif
    attend_portable_bf16(q, keys, values, last, written, head_dim, scale, scores, out);
}
