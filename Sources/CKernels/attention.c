// One attention query against a key/value cache row: the inner loop of every decoding pass. Keys and
// values are read in place ([slot][head_dim] for one batch row and head), as float32 or as bfloat16 (the
// upper halves of float32 values, widened on load); the scores go to a scratch row. x86-64 with AVX2+FMA
// (checked at run time) uses 8-wide dot products reduced four slots at a time, a vector exp and value
// sums held in registers when head_dim is a multiple of 8;
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


/* 8 bfloat16 values at p widened to floats (zero-extend, shift into the upper halves). */
AVX2 static inline __m256 load8_bf16(const uint16_t *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
}

#define LOAD8_F32(p) _mm256_loadu_ps(p)
#define LOAD8_BF16(p) load8_bf16(p)

/* exp(x) for 8 lanes, x ≤ 0 (scores minus their maximum): x = n·ln2 + r with |r| ≤ ln2/2 (ln2 split in
   two for an exact r), e^r by its degree-6 Taylor polynomial (error below 2 ulp), scaled by 2^n; lanes
   below −87 give 0. */
AVX2 static inline __m256 exp8_nonpositive(__m256 x) {
    const __m256 log2e = _mm256_set1_ps(1.44269504088896341f);
    const __m256 ln2_hi = _mm256_set1_ps(0.693359375f), ln2_lo = _mm256_set1_ps(-2.12194440e-4f);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, ln2_hi, x);
    r = _mm256_fnmadd_ps(n, ln2_lo, r);
    __m256 p = _mm256_set1_ps(1.0f / 720);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    __m256 y = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
    return _mm256_and_ps(y, _mm256_cmp_ps(x, _mm256_set1_ps(-87.0f), _CMP_GE_OQ));
}

/* Four lanes' horizontal sums at once: [Σa, Σb, Σc, Σd]. */
AVX2 static inline __m128 hsum4(__m256 a, __m256 b, __m256 c, __m256 d) {
    __m256 ab = _mm256_hadd_ps(a, b), cd = _mm256_hadd_ps(c, d), abcd = _mm256_hadd_ps(ab, cd);
    return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

/* Scores q·k for every slot ≤ last (−inf where not visible), four slots per reduction; then the
   softmax weights by the vector exp (scores turned into weights in place, invisible slots 0), and the
   weighted value sum with the output held in registers 64 dimensions at a time. Every output dimension
   sums its slots in slot order. */
#define ATTEND_AVX2(NAME, T, LOAD8)                                                                       \
AVX2 static inline __m256 NAME##_dot(const float *q, const T *k, int64_t hd) {                            \
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();                                            \
    int64_t d = 0;                                                                                        \
    for (; d + 16 <= hd; d += 16) {                                                                       \
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), LOAD8(k + d), a0);                                   \
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + d + 8), LOAD8(k + d + 8), a1);                           \
    }                                                                                                     \
    if (d < hd) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), LOAD8(k + d), a0);                           \
    return _mm256_add_ps(a0, a1);                                                                         \
}                                                                                                         \
AVX2 static void NAME(const float *q, const T *keys, const T *values, int64_t last, const bool *written, \
                      int64_t hd, float scale, float *scores, float *out) {                               \
    int64_t n = last + 1, s = 0;                                                                          \
    for (; s + 4 <= n; s += 4) {                                                                          \
        __m128 four = hsum4(NAME##_dot(q, keys + s * hd, hd), NAME##_dot(q, keys + (s + 1) * hd, hd),     \
                            NAME##_dot(q, keys + (s + 2) * hd, hd), NAME##_dot(q, keys + (s + 3) * hd, hd)); \
        _mm_storeu_ps(scores + s, _mm_mul_ps(four, _mm_set1_ps(scale)));                                  \
    }                                                                                                     \
    for (; s < n; s++) {                                                                                  \
        __m256 v = NAME##_dot(q, keys + s * hd, hd);                                                      \
        scores[s] = _mm_cvtss_f32(hsum4(v, v, v, v)) * scale;                                             \
    }                                                                                                     \
    float max_score = -INFINITY;                                                                          \
    for (s = 0; s < n; s++) {                                                                             \
        if (!visible(written, s, last)) scores[s] = -INFINITY;                                            \
        else if (scores[s] > max_score) max_score = scores[s];                                            \
    }                                                                                                     \
    __m256 top = _mm256_set1_ps(max_score);                                                               \
    for (s = 0; s + 8 <= n; s += 8)                                                                       \
        _mm256_storeu_ps(scores + s, exp8_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(scores + s), top)));   \
    if (s < n) {                                                                                          \
        float tail[8];                                                                                    \
        for (int64_t i = 0; i < 8; i++) tail[i] = s + i < n ? scores[s + i] - max_score : -INFINITY;      \
        _mm256_storeu_ps(tail, exp8_nonpositive(_mm256_loadu_ps(tail)));                                  \
        for (int64_t i = 0; s + i < n; i++) scores[s + i] = tail[i];                                      \
    }                                                                                                     \
    float sum = 0;                                                                                        \
    for (s = 0; s < n; s++) sum += scores[s];                                                             \
    __m256 inv = _mm256_set1_ps(1 / sum);                                                                 \
    for (int64_t d0 = 0; d0 < hd; d0 += 64) {                                                             \
        int64_t width = hd - d0 < 64 ? hd - d0 : 64, vecs = width / 8;                                    \
        __m256 acc[8];                                                                                    \
        for (int64_t j = 0; j < 8; j++) acc[j] = _mm256_setzero_ps();                                     \
        for (s = 0; s < n; s++) {                                                                         \
            if (scores[s] == 0) continue;                                                                 \
            __m256 p = _mm256_set1_ps(scores[s]);                                                         \
            const T *v = values + s * hd + d0;                                                            \
            for (int64_t j = 0; j < vecs; j++) acc[j] = _mm256_fmadd_ps(p, LOAD8(v + 8 * j), acc[j]);     \
        }                                                                                                 \
        for (int64_t j = 0; j < vecs; j++) _mm256_storeu_ps(out + d0 + 8 * j, _mm256_mul_ps(acc[j], inv)); \
    }                                                                                                     \
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
