// Few-row matrix products against int8 weight panels with one float32 scale per output row (the layout of
// linear.c: panels of 16 rows, k-major, slots in order), streaming the weights once. Each k-step widens
// 16 int8 values to two 8-float vectors (sign-extending loads, then int → float) and multiplies them with
// every activation row of the group; the row scales are applied when a chunk's sums are stored.
//
// A quarter of float32's bytes leaves the kernel with little time per k-step, so a row's sums run in two
// interleaved accumulator sets (even and odd k-steps, added at the end of each chunk): one or two rows
// would otherwise wait on the FMA latency of a single chain. The sets, the groups of at most ROWS rows and
// the chunks of KC k-steps are the same for every m, so each output row is summed in the same order
// however many rows share the product (a row's result does not depend on its batch).
#include "ckernels.h"
#include "cpu.h"

#define P ZIPAR_PANEL
#define ROWS 3
#define KC 256

static void linear_int8_portable(const float *x, int64_t m, int64_t ldx, const int8_t *panels, const float *scales,
                                 int64_t n, int64_t k, int64_t p0, int64_t p1, float *y, int64_t ldy, int accumulate) {
    for (int64_t p = p0; p < p1; p++) {
        const int8_t *panel = panels + p * k * P;
        int64_t cols = n - p * P < P ? n - p * P : P;
        for (int64_t r = 0; r < m; r++) {
            float acc[P] = {0};
            for (int64_t i = 0; i < k; i++) {
                float xv = x[r * ldx + i];
                for (int c = 0; c < P; c++) acc[c] += xv * (float)panel[i * P + c];
            }
            float *yr = y + r * ldy + p * P;
            for (int64_t c = 0; c < cols; c++) {
                float v = acc[c] * scales[p * P + c];
                yr[c] = accumulate ? yr[c] + v : v;
            }
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))
#define PREFETCH_BYTES 2048

// 16 int8 values of one k-step: rows 0-7 in `lo`, rows 8-15 in `hi`.
AVX2 static inline void load_i8(const int8_t *p, __m256 *lo, __m256 *hi) {
    *lo = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p)));
    *hi = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(p + 8))));
}

// One k-step i of R rows into accumulator set S.
#define STEP(i, S)                                                                                   \
    do {                                                                                             \
        __m256 w0, w1;                                                                               \
        load_i8(panel + (i) * P, &w0, &w1);                                                          \
        for (int r = 0; r < R; r++) {                                                                \
            __m256 xv = _mm256_broadcast_ss(x + r * ldx + (i));                                      \
            acc[S][r][0] = _mm256_fmadd_ps(xv, w0, acc[S][r][0]);                                    \
            acc[S][r][1] = _mm256_fmadd_ps(xv, w1, acc[S][r][1]);                                    \
        }                                                                                            \
    } while (0)

// R rows of x (compile-time constant, ≤ ROWS) against kc k-steps of one panel; cols = valid output columns.
// One prefetch per 64 bytes (four k-steps), `ahead` + i · 16 for step i.
AVX2 __attribute__((always_inline)) static inline void block_i8(
        const float *x, int64_t ldx, const int8_t *panel, int64_t k, const float *scale, float *y, int64_t ldy,
        int64_t cols, int accumulate, const char *ahead, const int R) {
    __m256 acc[2][ROWS][2];
    for (int s = 0; s < 2; s++)
        for (int r = 0; r < R; r++) { acc[s][r][0] = _mm256_setzero_ps(); acc[s][r][1] = _mm256_setzero_ps(); }
    int64_t i = 0;
    for (; i + 4 <= k; i += 4) {
        _mm_prefetch(ahead + i * P, _MM_HINT_T0);
        STEP(i, 0);
        STEP(i + 1, 1);
        STEP(i + 2, 0);
        STEP(i + 3, 1);
    }
    for (; i + 2 <= k; i += 2) {
        STEP(i, 0);
        STEP(i + 1, 1);
    }
    if (i < k) STEP(i, 0);
    __m256 s0 = _mm256_loadu_ps(scale), s1 = _mm256_loadu_ps(scale + 8);
    for (int r = 0; r < R; r++) {
        float *yr = y + r * ldy;
        __m256 v0 = _mm256_add_ps(acc[0][r][0], acc[1][r][0]), v1 = _mm256_add_ps(acc[0][r][1], acc[1][r][1]);
        if (cols == P) {
            if (accumulate) {
                v0 = _mm256_fmadd_ps(v0, s0, _mm256_loadu_ps(yr));
                v1 = _mm256_fmadd_ps(v1, s1, _mm256_loadu_ps(yr + 8));
            } else {
                v0 = _mm256_mul_ps(v0, s0);
                v1 = _mm256_mul_ps(v1, s1);
            }
            _mm256_storeu_ps(yr, v0);
            _mm256_storeu_ps(yr + 8, v1);
        } else {
            float tmp[P];
            _mm256_storeu_ps(tmp, _mm256_mul_ps(v0, s0));
            _mm256_storeu_ps(tmp + 8, _mm256_mul_ps(v1, s1));
            for (int64_t c = 0; c < cols; c++) yr[c] = accumulate ? yr[c] + tmp[c] : tmp[c];
        }
    }
}

AVX2 static void rows_i8(const float *x, int64_t ldx, const int8_t *panel, int64_t k, const float *scale, float *y,
                         int64_t ldy, int64_t cols, int accumulate, const char *ahead, int64_t rows) {
    switch (rows) {  // every group size has its own compiled branch, as in linear.c
    case 1: block_i8(x, ldx, panel, k, scale, y, ldy, cols, accumulate, ahead, 1); break;
    case 2: block_i8(x, ldx, panel, k, scale, y, ldy, cols, accumulate, ahead, 2); break;
    case 3: block_i8(x, ldx, panel, k, scale, y, ldy, cols, accumulate, ahead, 3); break;
    default: break;
    }
}

// Groups and chunks as in linear.c: ceil(m / ROWS) groups of nearly equal size; every group runs over a
// chunk of KC k-steps while it sits in L1, the groups after the first prefetching the next chunk.
AVX2 static void linear_int8_avx2(const float *x, int64_t m, int64_t ldx, const int8_t *panels, const float *scales,
                                  int64_t n, int64_t k, int64_t p0, int64_t p1, float *y, int64_t ldy, int accumulate) {
    int64_t groups = (m + ROWS - 1) / ROWS;
    for (int64_t p = p0; p < p1; p++) {
        const int8_t *panel = panels + p * k * P;
        int64_t cols = n - p * P < P ? n - p * P : P;
        float *yp = y + p * P;
        for (int64_t k0 = 0; k0 < k; k0 += KC) {
            int64_t kc = k - k0 < KC ? k - k0 : KC;
            int add = accumulate || k0 > 0;
            const int8_t *part = panel + k0 * P;
            for (int64_t g = 0, r = 0; g < groups; g++) {
                int64_t rows = m / groups + (g < m % groups);
                const char *ahead = g == 0 ? (const char *)part + PREFETCH_BYTES : (const char *)(part + kc * P);
                rows_i8(x + r * ldx + k0, ldx, part, kc, scales + p * P, yp + r * ldy, ldy, cols, add, ahead, rows);
                r += rows;
            }
        }
    }
}

void zipar_linear_int8(const float *x, int64_t m, int64_t ldx, const int8_t *panels, const float *scales, int64_t n,
                       int64_t k, int64_t p0, int64_t p1, float *y, int64_t ldy, int accumulate) {
    if (zipar_vector_level() >= 1) linear_int8_avx2(x, m, ldx, panels, scales, n, k, p0, p1, y, ldy, accumulate);
    else linear_int8_portable(x, m, ldx, panels, scales, n, k, p0, p1, y, ldy, accumulate);
}

#else

void zipar_linear_int8(const float *x, int64_t m, int64_t ldx, const int8_t *panels, const float *scales, int64_t n,
                       int64_t k, int64_t p0, int64_t p1, float *y, int64_t ldy, int accumulate) {
    linear_int8_portable(x, m, ldx, panels, scales, n, k, p0, p1, y, ldy, accumulate);
}

#endif
