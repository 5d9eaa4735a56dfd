// Few-row matrix products that stream the weights once. A decoding pass of an AR model multiplies a
// handful of activation rows by every weight matrix, so it is bound by reading the weights: the weights
// are packed in panels of 16 output rows, k-major, and each panel is read from memory once for all rows
// (groups of up to 5 activation rows, whose 5 x 2 vector accumulators stay in registers: no horizontal
// sums; measured, 6 rows ran slower than 5), with a software prefetch running ahead of the stream.
// x86-64 with AVX2+FMA (checked at run time) uses the vector kernel; elsewhere a portable loop.
#include "ckernels.h"
#include "cpu.h"

#define P ZIPAR_PANEL
#define ROWS 5

static inline float bf16_to_f32(uint16_t h) {
    union { uint32_t u; float f; } v = { (uint32_t)h << 16 };
    return v.f;
}

/* Slot of panel row c within a k-step: identity for float32; bfloat16 swaps rows 4-7 and 8-11. */
#define SLOT_F32(c) (c)
#define SLOT_BF16(c) ((c) >= 4 && (c) < 12 ? ((c) < 8 ? (c) + 4 : (c) - 4) : (c))

#define DEFINE_PORTABLE(NAME, WTYPE, WIDEN, SLOT)                                                    \
static void NAME(const float *x, int64_t m, int64_t ldx, const WTYPE *panels, int64_t n, int64_t k, \
                 int64_t p0, int64_t p1, float *y, int64_t ldy, int accumulate) {                    \
    for (int64_t p = p0; p < p1; p++) {                                                              \
        const WTYPE *panel = panels + p * k * P;                                                     \
        int64_t cols = n - p * P < P ? n - p * P : P;                                                \
        for (int64_t r = 0; r < m; r++) {                                                            \
            float acc[P] = {0};                                                                      \
            for (int64_t i = 0; i < k; i++) {                                                        \
                float xv = x[r * ldx + i];                                                           \
                for (int c = 0; c < P; c++) acc[c] += xv * WIDEN(panel[i * P + SLOT(c)]);            \
            }                                                                                        \
            float *yr = y + r * ldy + p * P;                                                         \
            for (int64_t c = 0; c < cols; c++) yr[c] = accumulate ? yr[c] + acc[c] : acc[c];         \
        }                                                                                            \
    }                                                                                                \
}

#define WIDEN_F32(v) (v)
DEFINE_PORTABLE(linear_f32_portable, float, WIDEN_F32, SLOT_F32)
DEFINE_PORTABLE(linear_bf16_portable, uint16_t, bf16_to_f32, SLOT_BF16)

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))

// Software prefetch this far ahead in the panel stream: measured on the 2-core EPYC, 2 KB ahead lifts a
// 6-row product from ~30 to ~39 GB/s (the hardware prefetcher alone falls behind while the FMAs run).
#define PREFETCH_BYTES 2048

AVX2 static inline void load_f32(const float *p, __m256 *lo, __m256 *hi) {
    *lo = _mm256_loadu_ps(p);
    *hi = _mm256_loadu_ps(p + 8);
}

// 16 bfloat16 values in slot order (rows 0-3, 8-11, 4-7, 12-15): unpacking against zeros within each
// 128-bit lane puts rows 0-7 in `lo` and rows 8-15 in `hi`, one instruction each.
AVX2 static inline void load_bf16(const uint16_t *p, __m256 *lo, __m256 *hi) {
    __m256i h = _mm256_loadu_si256((const __m256i *)p), zero = _mm256_setzero_si256();
    *lo = _mm256_castsi256_ps(_mm256_unpacklo_epi16(zero, h));
    *hi = _mm256_castsi256_ps(_mm256_unpackhi_epi16(zero, h));
}

// R rows of x (compile-time constant, ≤ ROWS) against one panel; cols = valid output columns. Step i
// prefetches ahead + i · (one k-step of the panel).
#define DEFINE_BLOCK(NAME, WTYPE, LOAD)                                                              \
AVX2 __attribute__((always_inline)) static inline void NAME(                                         \
        const float *x, int64_t ldx, const WTYPE *panel, int64_t k, float *y, int64_t ldy,           \
        int64_t cols, int accumulate, const char *ahead, const int R) {                              \
    __m256 acc[ROWS][2];                                                                             \
    for (int r = 0; r < R; r++) { acc[r][0] = _mm256_setzero_ps(); acc[r][1] = _mm256_setzero_ps(); } \
    for (int64_t i = 0; i < k; i++) {                                                                \
        __m256 w0, w1;                                                                               \
        _mm_prefetch(ahead + i * P * (int64_t)sizeof(WTYPE), _MM_HINT_T0);                           \
        LOAD(panel + i * P, &w0, &w1);                                                               \
        for (int r = 0; r < R; r++) {                                                                \
            __m256 xv = _mm256_broadcast_ss(x + r * ldx + i);                                        \
            acc[r][0] = _mm256_fmadd_ps(xv, w0, acc[r][0]);                                          \
            acc[r][1] = _mm256_fmadd_ps(xv, w1, acc[r][1]);                                          \
        }                                                                                            \
    }                                                                                                \
    for (int r = 0; r < R; r++) {                                                                    \
        float *yr = y + r * ldy;                                                                     \
        if (cols == P) {                                                                             \
            if (accumulate) {                                                                        \
                acc[r][0] = _mm256_add_ps(acc[r][0], _mm256_loadu_ps(yr));                           \
                acc[r][1] = _mm256_add_ps(acc[r][1], _mm256_loadu_ps(yr + 8));                       \
            }                                                                                        \
            _mm256_storeu_ps(yr, acc[r][0]);                                                         \
            _mm256_storeu_ps(yr + 8, acc[r][1]);                                                     \
        } else {                                                                                     \
            float tmp[P];                                                                            \
            _mm256_storeu_ps(tmp, acc[r][0]);                                                        \
            _mm256_storeu_ps(tmp + 8, acc[r][1]);                                                    \
            for (int64_t c = 0; c < cols; c++) yr[c] = accumulate ? yr[c] + tmp[c] : tmp[c];         \
        }                                                                                            \
    }                                                                                                \
}

DEFINE_BLOCK(block_f32, float, load_f32)
DEFINE_BLOCK(block_bf16, uint16_t, load_bf16)

// More rows than one register block holds are split into ceil(m / ROWS) groups of nearly equal size (8 as
// 4 + 4, not 5 + 3). The panel is walked in chunks of KC k-steps (16 KB of float32; 128, 384, 512 and 768
// measured slower): every group runs over a chunk while it sits in L1, and the groups after the first
// prefetch the next chunk, so memory streams while they compute instead of only while the first group
// runs. A chunk after the first adds to the partial sums already in y. The chunks are the same for every
// m, so each output row is summed in the same order however many rows share the product (a row's result
// does not depend on its batch).
#define KC 256

#define DEFINE_LINEAR(NAME, WTYPE, BLOCK, PORTABLE)                                                  \
AVX2 static void NAME##_rows(const float *x, int64_t ldx, const WTYPE *panel, int64_t k, float *y,  \
                             int64_t ldy, int64_t cols, int accumulate, const char *ahead, int64_t rows) { \
    switch (rows) {                                                                                  \
    case 1: BLOCK(x, ldx, panel, k, y, ldy, cols, accumulate, ahead, 1); break;                      \
    case 2: BLOCK(x, ldx, panel, k, y, ldy, cols, accumulate, ahead, 2); break;                      \
    case 3: BLOCK(x, ldx, panel, k, y, ldy, cols, accumulate, ahead, 3); break;                      \
    case 4: BLOCK(x, ldx, panel, k, y, ldy, cols, accumulate, ahead, 4); break;                      \
    case 5: BLOCK(x, ldx, panel, k, y, ldy, cols, accumulate, ahead, 5); break;                      \
    default: break; /* groups never exceed ROWS; every size is spelled out: a shared default branch */ \
                    /* for the largest block compiled ~40 % slower here */                                 \
    }                                                                                                \
}                                                                                                    \
AVX2 static void NAME##_avx2(const float *x, int64_t m, int64_t ldx, const WTYPE *panels, int64_t n, \
                             int64_t k, int64_t p0, int64_t p1, float *y, int64_t ldy, int accumulate) { \
    int64_t groups = (m + ROWS - 1) / ROWS;                                                          \
    int64_t chunk = KC;                                                                              \
    for (int64_t p = p0; p < p1; p++) {                                                              \
        const WTYPE *panel = panels + p * k * P;                                                     \
        int64_t cols = n - p * P < P ? n - p * P : P;                                                \
        float *yp = y + p * P;                                                                       \
        for (int64_t k0 = 0; k0 < k; k0 += chunk) {                                                  \
            int64_t kc = k - k0 < chunk ? k - k0 : chunk;                                            \
            int add = accumulate || k0 > 0;                                                          \
            const WTYPE *part = panel + k0 * P;                                                      \
            for (int64_t g = 0, r = 0; g < groups; g++) {                                            \
                int64_t rows = m / groups + (g < m % groups);                                        \
                const char *ahead = g == 0 ? (const char *)part + PREFETCH_BYTES : (const char *)(part + kc * P); \
                NAME##_rows(x + r * ldx + k0, ldx, part, kc, yp + r * ldy, ldy, cols, add, ahead, rows); \
                r += rows;                                                                           \
            }                                                                                        \
        }                                                                                            \
    }                                                                                                \
}                                                                                                    \
void NAME(const float *x, int64_t m, int64_t ldx, const WTYPE *panels, int64_t n, int64_t k,        \
          int64_t p0, int64_t p1, float *y, int64_t ldy, int accumulate) {                          \
    if (zipar_vector_level() >= 1) NAME##_avx2(x, m, ldx, panels, n, k, p0, p1, y, ldy, accumulate);           \
    else PORTABLE(x, m, ldx, panels, n, k, p0, p1, y, ldy, accumulate);                              \
}

DEFINE_LINEAR(zipar_linear_f32, float, block_f32, linear_f32_portable)
DEFINE_LINEAR(zipar_linear_bf16, uint16_t, block_bf16, linear_bf16_portable)

#else

void zipar_linear_f32(const float *x, int64_t m, int64_t ldx, const float *panels, int64_t n, int64_t k,
                      int64_t p0, int64_t p1, float *y, int64_t ldy, int accumulate) {
    linear_f32_portable(x, m, ldx, panels, n, k, p0, p1, y, ldy, accumulate);
}

void zipar_linear_bf16(const float *x, int64_t m, int64_t ldx, const uint16_t *panels, int64_t n, int64_t k,
                       int64_t p0, int64_t p1, float *y, int64_t ldy, int accumulate) {
    linear_bf16_portable(x, m, ldx, panels, n, k, p0, p1, y, ldy, accumulate);
}

#endif
