// The memory-read probe behind the benchmark's bandwidth floor: sums a buffer the way the weight-streaming
// kernels read weights (256-bit loads, a software prefetch 2 KB ahead), so the floor is what reading alone
// can reach on this machine, not a slower loop's speed.
#include "ckernels.h"
#include "cpu.h"

static double sum_portable(const float *p, int64_t n) {
    double total = 0;
    for (int64_t start = 0; start < n; start += 1 << 20) {
        int64_t end = n - start < (1 << 20) ? n : start + (1 << 20);
        float acc[8] = {0};
        for (int64_t i = start; i + 8 <= end; i += 8)
            for (int j = 0; j < 8; j++) acc[j] += p[i + j];
        for (int j = 0; j < 8; j++) total += acc[j];
    }
    return total;
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2,fma"))) static double sum_avx2(const float *p, int64_t n) {
    double total = 0;
    for (int64_t start = 0; start < n; start += 1 << 20) {
        int64_t end = n - start < (1 << 20) ? n : start + (1 << 20);
        __m256 a = _mm256_setzero_ps(), b = a, c = a, d = a;
        for (int64_t i = start; i + 32 <= end; i += 32) {
            _mm_prefetch((const char *)(p + i) + 2048, _MM_HINT_T0);
            _mm_prefetch((const char *)(p + i) + 2048 + 64, _MM_HINT_T0);
            a = _mm256_add_ps(a, _mm256_loadu_ps(p + i));
            b = _mm256_add_ps(b, _mm256_loadu_ps(p + i + 8));
            c = _mm256_add_ps(c, _mm256_loadu_ps(p + i + 16));
            d = _mm256_add_ps(d, _mm256_loadu_ps(p + i + 24));
        }
        float lanes[8];
        _mm256_storeu_ps(lanes, _mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d)));
        for (int j = 0; j < 8; j++) total += lanes[j];
    }
    return total;
}
#endif

double zipar_read_sum(const float *p, int64_t n) {
#if defined(__x86_64__)
    if (zipar_vector_level() >= 1) return sum_avx2(p, n);
#endif
    return sum_portable(p, n);
}
