// One attention query against a key/value cache row: the inner loop of every decoding pass. Keys and
// values are read in place ([slot][head_dim] for one batch row and head); the scores go to a scratch row.
// x86-64 with AVX2+FMA (checked at run time) uses 8-wide dot products and value sums when head_dim is a
// multiple of 8; elsewhere a portable loop.
#include "ckernels.h"
#include "cpu.h"
#include <math.h>

static inline int visible(const bool *written, int64_t slot, int64_t last) {
    return written == 0 || written[slot] || slot == last;
}

static void attend_portable(const float *q, const float *keys, const float *values, int64_t last,
                            const bool *written, int64_t hd, float scale, float *scores, float *out) {
    float max_score = -INFINITY;
    for (int64_t s = 0; s <= last; s++) {
        if (!visible(written, s, last)) { scores[s] = -INFINITY; continue; }
        float acc = 0;
        for (int64_t d = 0; d < hd; d++) acc += q[d] * keys[s * hd + d];
        scores[s] = acc * scale;
        if (scores[s] > max_score) max_score = scores[s];
    }
    for (int64_t d = 0; d < hd; d++) out[d] = 0;
    float sum = 0;
    for (int64_t s = 0; s <= last; s++) {
        if (scores[s] == -INFINITY) continue;
        float p = expf(scores[s] - max_score);
        sum += p;
        for (int64_t d = 0; d < hd; d++) out[d] += p * values[s * hd + d];
    }
    for (int64_t d = 0; d < hd; d++) out[d] /= sum;
}

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

AVX2 static void attend_avx2(const float *q, const float *keys, const float *values, int64_t last,
                             const bool *written, int64_t hd, float scale, float *scores, float *out) {
    float max_score = -INFINITY;
    for (int64_t s = 0; s <= last; s++) {
        if (!visible(written, s, last)) { scores[s] = -INFINITY; continue; }
        const float *k = keys + s * hd;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        int64_t d = 0;
        for (; d + 16 <= hd; d += 16) {
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), _mm256_loadu_ps(k + d), a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + d + 8), _mm256_loadu_ps(k + d + 8), a1);
        }
        if (d < hd) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), _mm256_loadu_ps(k + d), a0);
        scores[s] = hsum(_mm256_add_ps(a0, a1)) * scale;
        if (scores[s] > max_score) max_score = scores[s];
    }
    float sum = 0;
    for (int64_t d = 0; d < hd; d += 8) _mm256_storeu_ps(out + d, _mm256_setzero_ps());
    for (int64_t s = 0; s <= last; s++) {
        if (scores[s] == -INFINITY) continue;
        float p = expf(scores[s] - max_score);
        sum += p;
        __m256 pv = _mm256_set1_ps(p);
        const float *v = values + s * hd;
        for (int64_t d = 0; d < hd; d += 8)
            _mm256_storeu_ps(out + d, _mm256_fmadd_ps(pv, _mm256_loadu_ps(v + d), _mm256_loadu_ps(out + d)));
    }
    __m256 inv = _mm256_set1_ps(1 / sum);
    for (int64_t d = 0; d < hd; d += 8) _mm256_storeu_ps(out + d, _mm256_mul_ps(_mm256_loadu_ps(out + d), inv));
}

#endif

void zipar_attend_one(const float *q, const float *keys, const float *values, int64_t last,
                      const bool *written, int64_t head_dim, float scale, float *scores, float *out) {
#if defined(__x86_64__)
    if (head_dim % 8 == 0 && zipar_vector_level() >= 1) {
        attend_avx2(q, keys, values, last, written, head_dim, scale, scores, out);
        return;
    }
#endif
    attend_portable(q, keys, values, last, written, head_dim, scale, scores, out);
}
