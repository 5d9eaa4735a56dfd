// Winograd F(4x4, 3x3) convolution (stride 1, zero padding 1) over channel-first [C][H][W] images.
//
// Each 4x4 output tile is computed from a 6x6 input patch: V = Bt d B (per input channel), then for each
// of the 36 transform positions p an ordinary matrix product M_p[cout][tiles] = U_p[cout][cin] V_p[cin][tiles]
// with U = G g Gt the transformed filters, then Y = At M A (per output channel). That takes 36 multiplies
// per tile and channel pair where the direct convolution takes 16 x 9 = 144.
//
// The image is cut into work units of up to UNIT_TILES tiles (one or more tile rows, each a run of up to
// UNIT_TILES columns); the pool's threads claim units one at a time and run the whole pipeline on each in
// their own scratch, so the transformed input (36 x cin x UNIT_TILES floats) stays in the core's L2 cache
// and the product for a block of MR output channels (36 x MR x UNIT_TILES) in L1, and neither goes to
// memory. Transforms are vectorised over groups of 8 tiles of a tile row: the input's rows are first
// combined vertically (contiguous loads; a GroupNorm + swish or a x2 upsampling of the input is applied
// here), then the stride-4 columns of 8 tiles are separated with in-lane 4x4 transposes, which leaves the
// tiles of a group in the order 0 2 4 6 1 3 5 7; the product keeps columns apart and the output transform
// applies the same transpose, which restores the order.
//
// Points 0, +-1, +-2 (Lavin & Gray); the filter transform is computed in double precision. Against the
// direct convolution the result differs by about 1e-5 of the output's magnitude.
// On x86-64 the same code is compiled for AVX-512F (16-float vectors: two groups of tiles per transform
// step, 6 x 32 register blocks in the product) and for AVX2+FMA (8-float vectors, 6 x 16 blocks), picked
// at run time; elsewhere it is portable vector code.
#include "ckernels.h"
#include "cpu.h"
#include <stdatomic.h>
#include <string.h>

// The helpers below pass 8-float vectors by value; they are always inlined, so the warning that this
// depends on whether AVX is enabled does not apply.
#pragma clang diagnostic ignored "-Wpsabi"

/// Output channels per block of the product (rows of the micro-kernel); filters are packed in blocks of MR.
#define MR 6
/// Tiles per work unit (a multiple of 16).
#define UNIT_TILES 32
/// How many channels ahead the input transform prefetches the image rows it will read.
#define PREFETCH_CHANNELS 2
/// Floats per row of the vertical-pass scratch: 4 columns per tile, plus the 2-column overlap, rounded.
#define ROW_FLOATS (4 * UNIT_TILES + 8)

typedef float v8 __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4)));
typedef float v4u __attribute__((vector_size(16), aligned(4)));
typedef int v8i __attribute__((vector_size(32)));
typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4)));
typedef int v16i __attribute__((vector_size(64)));

#define INLINE static inline __attribute__((always_inline))

INLINE v8 load8(const float *p) { return *(const v8u *)p; }
INLINE void store8(float *p, v8 v) { *(v8u *)p = v; }

INLINE v16 load16(const float *p) { return *(const v16u *)p; }
INLINE void store16(float *p, v16 v) { *(v16u *)p = v; }

/// Four floats each repeated twice: the 8 columns of a ×2 nearest-upsampled row starting at an even column.
INLINE v8 load4_doubled(const float *p) {
    v4u h = *(const v4u *)p;
    return __builtin_shufflevector(h, h, 0, 0, 1, 1, 2, 2, 3, 3);
}

/// The same for 16 columns.
INLINE v16 load8_doubled(const float *p) {
    v8 h = load8(p);
    return __builtin_shufflevector(h, h, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
}

/// 4x4 transpose inside each 128-bit half: out_q[4h + i] = in_i[4h + q].
INLINE void transpose4(v8 a0, v8 a1, v8 a2, v8 a3, v8 *o0, v8 *o1, v8 *o2, v8 *o3) {
    v8 t0 = __builtin_shufflevector(a0, a1, 0, 8, 1, 9, 4, 12, 5, 13);
    v8 t1 = __builtin_shufflevector(a0, a1, 2, 10, 3, 11, 6, 14, 7, 15);
    v8 t2 = __builtin_shufflevector(a2, a3, 0, 8, 1, 9, 4, 12, 5, 13);
    v8 t3 = __builtin_shufflevector(a2, a3, 2, 10, 3, 11, 6, 14, 7, 15);
    *o0 = __builtin_shufflevector(t0, t2, 0, 1, 8, 9, 4, 5, 12, 13);
    *o1 = __builtin_shufflevector(t0, t2, 2, 3, 10, 11, 6, 7, 14, 15);
    *o2 = __builtin_shufflevector(t1, t3, 0, 1, 8, 9, 4, 5, 12, 13);
    *o3 = __builtin_shufflevector(t1, t3, 2, 3, 10, 11, 6, 7, 14, 15);
}

/// The first two outputs of transpose4.
INLINE void transpose4_first2(v8 a0, v8 a1, v8 a2, v8 a3, v8 *o0, v8 *o1) {
    v8 t0 = __builtin_shufflevector(a0, a1, 0, 8, 1, 9, 4, 12, 5, 13);
    v8 t2 = __builtin_shufflevector(a2, a3, 0, 8, 1, 9, 4, 12, 5, 13);
    *o0 = __builtin_shufflevector(t0, t2, 0, 1, 8, 9, 4, 5, 12, 13);
    *o1 = __builtin_shufflevector(t0, t2, 2, 3, 10, 11, 6, 7, 14, 15);
}

/// transpose4 on each half of 16-float vectors (the same shuffles in all four 128-bit lanes).
INLINE void transpose4x16(v16 a0, v16 a1, v16 a2, v16 a3, v16 *o0, v16 *o1, v16 *o2, v16 *o3) {
    v16 t0 = __builtin_shufflevector(a0, a1, 0, 16, 1, 17, 4, 20, 5, 21, 8, 24, 9, 25, 12, 28, 13, 29);
    v16 t1 = __builtin_shufflevector(a0, a1, 2, 18, 3, 19, 6, 22, 7, 23, 10, 26, 11, 27, 14, 30, 15, 31);
    v16 t2 = __builtin_shufflevector(a2, a3, 0, 16, 1, 17, 4, 20, 5, 21, 8, 24, 9, 25, 12, 28, 13, 29);
    v16 t3 = __builtin_shufflevector(a2, a3, 2, 18, 3, 19, 6, 22, 7, 23, 10, 26, 11, 27, 14, 30, 15, 31);
    *o0 = __builtin_shufflevector(t0, t2, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29);
    *o1 = __builtin_shufflevector(t0, t2, 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31);
    *o2 = __builtin_shufflevector(t1, t3, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29);
    *o3 = __builtin_shufflevector(t1, t3, 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31);
}

/// The first two outputs of transpose4x16.
INLINE void transpose4x16_first2(v16 a0, v16 a1, v16 a2, v16 a3, v16 *o0, v16 *o1) {
    v16 t0 = __builtin_shufflevector(a0, a1, 0, 16, 1, 17, 4, 20, 5, 21, 8, 24, 9, 25, 12, 28, 13, 29);
    v16 t2 = __builtin_shufflevector(a2, a3, 0, 16, 1, 17, 4, 20, 5, 21, 8, 24, 9, 25, 12, 28, 13, 29);
    *o0 = __builtin_shufflevector(t0, t2, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29);
    *o1 = __builtin_shufflevector(t0, t2, 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31);
}

/// 8 floats at p followed by the 8 at p + 32: the same vector of two neighbouring groups of 8 tiles.
INLINE v16 load_pair(const float *p) {
    return __builtin_shufflevector(load8(p), load8(p + 32), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
}

INLINE v8 low8(v16 v) { return __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7); }
INLINE v8 high8(v16 v) { return __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15); }

/// t = Bt d for one column of six values (vectors of any width).
#define INPUT_1D(T, d0, d1, d2, d3, d4, d5, t)      \
    do {                                              \
        T a_ = (d4) - 4 * (d2), b_ = (d3) - 4 * (d1); \
        T c_ = (d4) - (d2), e_ = 2 * ((d3) - (d1));   \
        (t)[0] = 4 * (d0) - 5 * (d2) + (d4);          \
        (t)[1] = a_ + b_;                             \
        (t)[2] = a_ - b_;                             \
        (t)[3] = c_ + e_;                             \
        (t)[4] = c_ - e_;                             \
        (t)[5] = 4 * (d1) - 5 * (d3) + (d5);          \
    } while (0)

/// o = At m for one column of six values.
#define OUTPUT_1D(T, m, o)                                     \
    do {                                                       \
        T s12_ = (m)[1] + (m)[2], d12_ = (m)[1] - (m)[2];      \
        T s34_ = (m)[3] + (m)[4], d34_ = (m)[3] - (m)[4];      \
        (o)[0] = (m)[0] + s12_ + s34_;                         \
        (o)[1] = d12_ + 2 * d34_;                              \
        (o)[2] = s12_ + 4 * s34_;                              \
        (o)[3] = d12_ + 8 * d34_ + (m)[5];                     \
    } while (0)

/// One convolution call: the image, the filters and how the tiles are cut into units.
typedef struct {
    const float *x;       // input [cin][h][w], or [cin][h/2][w/2] when upsample
    const float *u;       // packed transformed filters (zipar_winograd_filters)
    const float *bias;    // [cout]
    const float *scale;   // [cin] with shift: the input is read as swish(x * scale + shift); NULL: as is
    const float *shift;
    float *y;             // output [cout][h][w]
    float *scratch;       // per-thread scratch, `scratch_floats` each
    int64_t cin, cout, h, w, scratch_floats;
    int upsample, accumulate;
    int64_t tiles_h, tiles_w;
    int64_t row_tiles;    // tiles of one tile row in a unit (a multiple of 8)
    int64_t unit_rows;    // tile rows per unit
    int64_t units_w, units;
    atomic_long next_unit;
} conv_job;

// Per-thread scratch, in this order: the transformed input V, the products M of one block of output
// channels, the vertical pass's six rows, a buffer for the image's right edge and a row of zeros (the
// padding rows). In floats, each part a multiple of 16.
static int64_t v_floats(int64_t cin) { return 36 * (cin * UNIT_TILES + 16); }

/// Floats between the transformed input of consecutive positions: one cache line more than the data, so
/// that the 36 rows the input transform writes at once do not all fall in the same cache sets.
INLINE int64_t v_stride(int64_t cin, int64_t nb) { return cin * nb + 16; }
#define M_FLOATS (36 * MR * UNIT_TILES)
#define R_FLOATS (6 * ROW_FLOATS)
#define TMP_FLOATS 64
static int64_t zero_floats(int64_t w) { return (w + 15) / 16 * 16; }

int64_t zipar_winograd_scratch_floats(int64_t cin, int64_t width) {
    return v_floats(cin) + M_FLOATS + R_FLOATS + TMP_FLOATS + zero_floats(width);
}

int64_t zipar_winograd_filter_floats(int64_t cout, int64_t cin) {
    return 36 * ((cout + MR - 1) / MR * MR) * cin;
}

void zipar_winograd_filters(const float *w, int64_t cout, int64_t cin, int64_t co0, int64_t co1, float *u) {
    static const double g[6][3] = {
        {1.0 / 4, 0, 0},
        {-1.0 / 6, -1.0 / 6, -1.0 / 6},
        {-1.0 / 6, 1.0 / 6, -1.0 / 6},
        {1.0 / 24, 1.0 / 12, 1.0 / 6},
        {1.0 / 24, -1.0 / 12, 1.0 / 6},
        {0, 0, 1},
    };
    int64_t blocks = (cout + MR - 1) / MR;
    for (int64_t co = co0; co < co1; co++) {
        for (int64_t ci = 0; ci < cin; ci++) {
            const float *k = w + (co * cin + ci) * 9;
            double gk[6][3];  // G k
            for (int i = 0; i < 6; i++)
                for (int c = 0; c < 3; c++)
                    gk[i][c] = g[i][0] * k[c] + g[i][1] * k[3 + c] + g[i][2] * k[6 + c];
            for (int i = 0; i < 6; i++) {
                for (int j = 0; j < 6; j++) {
                    double v = gk[i][0] * g[j][0] + gk[i][1] * g[j][1] + gk[i][2] * g[j][2];
                    int64_t p = i * 6 + j;
                    u[((p * blocks + co / MR) * cin + ci) * MR + co % MR] = (float)v;
                }
            }
        }
    }
}

/// swish(x) = x / (1 + e^-x) on vectors V (integer vectors VI), with the Cephes-style single-precision
/// e^x of the Swift side's Swish (the same polynomial and range reduction; the exponent is clamped to
/// +-88.376 so the result stays finite).
#define DEFINE_SWISH(NAME, V, VI)                                                                 \
    INLINE V NAME(V x) {                                                                          \
        const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */         \
        V e = __builtin_elementwise_min(__builtin_elementwise_max(-x, (V){0} - 88.3762626647949f), \
                                        (V){0} + 88.3762626647949f);                              \
        V shifted = e * 1.44269504088896341f + magic;                                             \
        V n = shifted - magic;                                                                    \
        VI ni = (VI)shifted - (VI)((V){0} + magic);                                               \
        V r = e - n * 0.693359375f;                                                               \
        r = r + n * 2.12194440e-4f;                                                               \
        V p = (V){0} + 1.9875691500e-4f;                                                          \
        p = p * r + 1.3981999507e-3f;                                                             \
        p = p * r + 8.3334519073e-3f;                                                             \
        p = p * r + 4.1665795894e-2f;                                                             \
        p = p * r + 1.6666665459e-1f;                                                             \
        p = p * r + 5.0000001201e-1f;                                                             \
        p = p * (r * r) + r + 1;                                                                  \
        VI half = ni >> 1; /* 2^n as two normal factors */                                        \
        V scale1 = (V)((half + 127) << 23), scale2 = (V)((ni - half + 127) << 23);                \
        return x / (1 + p * scale1 * scale2);                                                     \
    }

DEFINE_SWISH(swish8, v8, v8i)
DEFINE_SWISH(swish16, v16, v16i)

/// Vertical pass for one channel and tile row: r[i][c] = sum_k Bt[i][k] x[4ty - 1 + k][x0 + c] for the
/// columns c of the unit's row (x0 = 4 tx0 - 1), zero outside the image. With `normalize` the stored
/// values v are read as swish(v * scale + shift) of their channel; the zero padding stays zero.
INLINE void vertical_pass(const conv_job *job, int64_t ci, int64_t ty, int64_t tx0, float *r, const float *zero,
                          const int normalize, const int wide) {
    int64_t h = job->h, w = job->w, width = 4 * job->row_tiles + 4;
    int upsample = job->upsample;
    int64_t sw = upsample ? w / 2 : w;  // source row length
    const float *plane = job->x + ci * (upsample ? (h / 2) * sw : h * w);
    const float *d[6];
    float keep[6];  // 1 for rows inside the image, 0 for the zero padding
    for (int k = 0; k < 6; k++) {
        int64_t y = 4 * ty - 1 + k;
        int inside = y >= 0 && y < h;
        d[k] = inside ? plane + (upsample ? y / 2 : y) * sw : zero;
        keep[k] = inside ? 1.0f : 0.0f;
    }
    float scale = normalize ? job->scale[ci] : 1, shift = normalize ? job->shift[ci] : 0;
    int64_t x0 = 4 * tx0 - 1;
    int64_t c0 = x0 < 0 ? -x0 : 0, c1 = w - x0 < width ? w - x0 : width;
    if (ci + PREFETCH_CHANNELS < job->cin) {
        // The rows are short runs of the image, too short for the hardware prefetcher to follow.
        int64_t ahead = PREFETCH_CHANNELS * (upsample ? (h / 2) * sw : h * w);
        int64_t s0 = upsample ? (x0 + c0) / 2 : x0 + c0, s1 = upsample ? (x0 + c1 + 1) / 2 : x0 + c1;
        for (int k = 0; k < 6; k++) {
            if (d[k] == zero) continue;
            for (int64_t s = s0; s < s1; s += 16) __builtin_prefetch(d[k] + ahead + s);
            __builtin_prefetch(d[k] + ahead + s1 - 1);
        }
    }
    for (int i = 0; i < 6; i++) {
        for (int64_t c = 0; c < c0; c++) r[i * ROW_FLOATS + c] = 0;
        for (int64_t c = c1; c < width; c++) r[i * ROW_FLOATS + c] = 0;
    }
    // 16 columns at a time when `wide`, else 8 (from an even image column when upsampling: source column
    // = column / 2), else one, computed in lane 0.
    for (int64_t c = c0; c < c1;) {
        int64_t x = x0 + c, n = 1;
        if (wide && c + 16 <= c1 && !(upsample && x % 2 != 0)) {
            v16 col[6], t[6];
            for (int k = 0; k < 6; k++) col[k] = upsample ? load8_doubled(d[k] + x / 2) : load16(d[k] + x);
            if (normalize)
                for (int k = 0; k < 6; k++) col[k] = swish16(col[k] * scale + shift) * keep[k];
            INPUT_1D(v16, col[0], col[1], col[2], col[3], col[4], col[5], t);
            for (int i = 0; i < 6; i++) store16(r + i * ROW_FLOATS + c, t[i]);
            c += 16;
            continue;
        }
        v8 col[6], t[6];
        if (c + 8 <= c1 && !(upsample && x % 2 != 0)) {
            n = 8;
            for (int k = 0; k < 6; k++) col[k] = upsample ? load4_doubled(d[k] + x / 2) : load8(d[k] + x);
        } else {
            for (int k = 0; k < 6; k++) col[k] = (v8){0} + d[k][upsample ? x / 2 : x];
        }
        if (normalize)
            for (int k = 0; k < 6; k++) col[k] = swish8(col[k] * scale + shift) * keep[k];
        INPUT_1D(v8, col[0], col[1], col[2], col[3], col[4], col[5], t);
        for (int i = 0; i < 6; i++) {
            if (n == 8) store8(r + i * ROW_FLOATS + c, t[i]);
            else r[i * ROW_FLOATS + c] = t[i][0];
        }
        c += n;
    }
}

/// Horizontal pass: the 36 transformed values of every tile of the row, written to v[p][ci][col + tile]
/// (tile order within each group of 8 as described at the top). When `wide`, two groups at a time in
/// 16-float vectors.
INLINE void horizontal_pass(const conv_job *job, const float *r, float *v, int64_t ci, int64_t col, int64_t nb,
                            const int wide) {
    int64_t groups = job->row_tiles / 8, g = 0;
    float *out = v + ci * nb + col;
    int64_t stride = v_stride(job->cin, nb);
    if (wide) {
        for (; g + 2 <= groups; g += 2) {
            for (int i = 0; i < 6; i++) {
                const float *b = r + i * ROW_FLOATS + 32 * g;
                v16 c[6], t[6];
                transpose4x16(load_pair(b), load_pair(b + 8), load_pair(b + 16), load_pair(b + 24),
                              &c[0], &c[1], &c[2], &c[3]);
                transpose4x16_first2(load_pair(b + 4), load_pair(b + 12), load_pair(b + 20), load_pair(b + 28),
                                     &c[4], &c[5]);
                INPUT_1D(v16, c[0], c[1], c[2], c[3], c[4], c[5], t);
                for (int j = 0; j < 6; j++) store16(out + (i * 6 + j) * stride + 8 * g, t[j]);
            }
        }
    }
    for (; g < groups; g++) {
        for (int i = 0; i < 6; i++) {
            const float *b = r + i * ROW_FLOATS + 32 * g;
            v8 c[6], t[6];
            transpose4(load8(b), load8(b + 8), load8(b + 16), load8(b + 24), &c[0], &c[1], &c[2], &c[3]);
            transpose4_first2(load8(b + 4), load8(b + 12), load8(b + 20), load8(b + 28), &c[4], &c[5]);
            INPUT_1D(v8, c[0], c[1], c[2], c[3], c[4], c[5], t);
            for (int j = 0; j < 6; j++) store8(out + (i * 6 + j) * stride + 8 * g, t[j]);
        }
    }
}

/// c[MR][W NV] = a[k][MR]^T b[k][W NV] (row strides ldb, ldc) for vectors V of W floats: one register
/// block of the product, the MR x NV accumulators held in registers.
#define DEFINE_PRODUCT(NAME, V, W)                                                                     \
    INLINE void NAME(const float *a, const float *b, int64_t k, int64_t ldb, float *c, int64_t ldc,   \
                     const int NV) {                                                                   \
        V acc[MR][2];                                                                                  \
        for (int r = 0; r < MR; r++)                                                                   \
            for (int q = 0; q < NV; q++) acc[r][q] = (V){0};                                           \
        for (int64_t i = 0; i < k; i++) {                                                              \
            V bv[2];                                                                                   \
            for (int q = 0; q < NV; q++) bv[q] = *(const V##u *)(b + i * ldb + W * q);                 \
            for (int r = 0; r < MR; r++) {                                                             \
                float s = a[i * MR + r];                                                               \
                for (int q = 0; q < NV; q++) acc[r][q] += bv[q] * s;                                   \
            }                                                                                          \
        }                                                                                              \
        for (int r = 0; r < MR; r++)                                                                   \
            for (int q = 0; q < NV; q++) *(V##u *)(c + r * ldc + W * q) = acc[r][q];                   \
    }

DEFINE_PRODUCT(product8, v8, 8)
DEFINE_PRODUCT(product16, v16, 16)

/// c[MR][nb] = a[cin][MR]^T b[cin][nb] in register blocks of two vectors of columns: 16-float vectors when
/// `wide` (AVX-512, 6 x 32 blocks), else 8-float ones (6 x 16), and an 8-column block for the rest.
INLINE void product(const float *a, const float *b, float *c, int64_t cin, int64_t nb, const int wide) {
    int64_t t = 0;
    if (wide) {
        for (; t + 32 <= nb; t += 32) product16(a, b + t, cin, nb, c + t, nb, 2);
        if (t + 16 <= nb) { product16(a, b + t, cin, nb, c + t, nb, 1); t += 16; }
    } else {
        for (; t + 16 <= nb; t += 16) product8(a, b + t, cin, nb, c + t, nb, 2);
    }
    if (t < nb) product8(a, b + t, cin, nb, c + t, nb, 1);
}

/// Writes 8 * n output values (n = 4 or 8: q[b] holds values 8b.., and 32 + 8b.. when n = 8) to dst, of
/// which `valid` lie inside the image, adding the existing output when accumulating.
INLINE void write_row(const conv_job *job, float *dst, const v8 *q, int n, int64_t valid, float *tmp) {
    if (valid >= 8 * n) {
        for (int b = 0; b < n; b++) store8(dst + 8 * b, job->accumulate ? q[b] + load8(dst + 8 * b) : q[b]);
    } else {
        for (int b = 0; b < n; b++) store8(tmp + 8 * b, q[b]);
        for (int64_t e = 0; e < valid; e++) dst[e] = job->accumulate ? dst[e] + tmp[e] : tmp[e];
    }
}

/// Output transform of one channel's products m[p][col..] for the tile rows of a unit; adds the bias (and
/// the existing output when accumulating) and writes the part inside the image. When `wide`, two groups
/// of 8 tiles at a time in 16-float vectors.
INLINE void output_pass(const conv_job *job, const float *m, int64_t ldm, float bias, float *yplane,
                        int64_t ty0, int64_t rows, int64_t tx0, float *tmp, const int wide) {
    int64_t h = job->h, w = job->w, groups = job->row_tiles / 8;
    for (int64_t ur = 0; ur < rows; ur++) {
        int64_t ty = ty0 + ur, g = 0;
        if (wide) {
            for (; g + 2 <= groups && 4 * (tx0 + 8 * g) < w; g += 2) {
                int64_t col = ur * job->row_tiles + 8 * g, xs = 4 * (tx0 + 8 * g);
                v16 o[4][6];
                for (int j = 0; j < 6; j++) {
                    v16 mv[6], t[4];
                    for (int i = 0; i < 6; i++) mv[i] = load16(m + (i * 6 + j) * ldm + col);
                    OUTPUT_1D(v16, mv, t);
                    for (int a = 0; a < 4; a++) o[a][j] = t[a];
                }
                for (int a = 0; a < 4 && 4 * ty + a < h; a++) {
                    v16 t[4], q[4];
                    OUTPUT_1D(v16, o[a], t);
                    for (int b = 0; b < 4; b++) t[b] += bias;
                    transpose4x16(t[0], t[1], t[2], t[3], &q[0], &q[1], &q[2], &q[3]);
                    // The low halves are the first group's 32 values, the high halves the second's.
                    v8 row[8];
                    for (int b = 0; b < 4; b++) { row[b] = low8(q[b]); row[4 + b] = high8(q[b]); }
                    write_row(job, yplane + (4 * ty + a) * w + xs, row, 8, w - xs, tmp);
                }
            }
        }
        for (; g < groups && 4 * (tx0 + 8 * g) < w; g++) {
            int64_t col = ur * job->row_tiles + 8 * g, xs = 4 * (tx0 + 8 * g);
            v8 o[4][6];
            for (int j = 0; j < 6; j++) {
                v8 mv[6], t[4];
                for (int i = 0; i < 6; i++) mv[i] = load8(m + (i * 6 + j) * ldm + col);
                OUTPUT_1D(v8, mv, t);
                for (int a = 0; a < 4; a++) o[a][j] = t[a];
            }
            for (int a = 0; a < 4 && 4 * ty + a < h; a++) {
                v8 t[4], q[4];
                OUTPUT_1D(v8, o[a], t);
                for (int b = 0; b < 4; b++) t[b] += bias;
                transpose4(t[0], t[1], t[2], t[3], &q[0], &q[1], &q[2], &q[3]);
                write_row(job, yplane + (4 * ty + a) * w + xs, q, 4, w - xs, tmp);
            }
        }
    }
}

/// The whole pipeline for one unit, in the scratch of one thread.
INLINE void run_unit(const conv_job *job, int64_t unit, float *scratch, const int wide) {
    int64_t cin = job->cin, cout = job->cout;
    float *v = scratch, *m = v + v_floats(cin), *r = m + M_FLOATS, *tmp = r + R_FLOATS, *zero = tmp + TMP_FLOATS;
    int64_t ty0 = unit / job->units_w * job->unit_rows, tx0 = unit % job->units_w * job->row_tiles;
    int64_t rows = job->tiles_h - ty0 < job->unit_rows ? job->tiles_h - ty0 : job->unit_rows;
    int64_t nb = rows * job->row_tiles;  // columns of V and M: a multiple of 8
    for (int64_t ci = 0; ci < cin; ci++) {
        for (int64_t ur = 0; ur < rows; ur++) {
            if (job->scale) vertical_pass(job, ci, ty0 + ur, tx0, r, zero, 1, wide);
            else vertical_pass(job, ci, ty0 + ur, tx0, r, zero, 0, wide);
            horizontal_pass(job, r, v, ci, ur * job->row_tiles, nb, wide);
        }
    }
    int64_t blocks = (cout + MR - 1) / MR;
    for (int64_t cb = 0; cb < blocks; cb++) {
        for (int p = 0; p < 36; p++) {
            product(job->u + (p * blocks + cb) * cin * MR, v + p * v_stride(cin, nb), m + p * MR * nb, cin, nb, wide);
        }
        for (int64_t rr = 0; rr < MR && cb * MR + rr < cout; rr++) {
            int64_t co = cb * MR + rr;
            output_pass(job, m + rr * nb, MR * nb, job->bias[co], job->y + co * job->h * job->w, ty0, rows, tx0, tmp,
                        wide);
        }
    }
}

/// A pool task: claims units until none are left, working in scratch slot `slot`.
INLINE void run_task(conv_job *job, int64_t slot, const int wide) {
    float *scratch = job->scratch + slot * job->scratch_floats;
    memset(scratch + job->scratch_floats - zero_floats(job->w), 0, sizeof(float) * (size_t)zero_floats(job->w));
    for (;;) {
        int64_t unit = atomic_fetch_add_explicit(&job->next_unit, 1, memory_order_relaxed);
        if (unit >= job->units) return;
        run_unit(job, unit, scratch, wide);
    }
}

static void run_task_portable(conv_job *job, int64_t slot) { run_task(job, slot, 0); }

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static void run_task_avx2(conv_job *job, int64_t slot) {
    run_task(job, slot, 0);
}

__attribute__((target("avx512f,avx2,fma"))) static void run_task_avx512(conv_job *job, int64_t slot) {
    run_task(job, slot, 1);
}

#endif

static void task(void *context, int64_t slot) {
#if defined(__x86_64__)
    switch (zipar_vector_level()) {
    case 2: run_task_avx512(context, slot); return;
    case 1: run_task_avx2(context, slot); return;
    default: break;
    }
#endif
    run_task_portable(context, slot);
}

void zipar_winograd_conv3x3(const float *x, int64_t cin, int64_t height, int64_t width, int upsample,
                            const float *scale, const float *shift, const float *filters, const float *bias,
                            int64_t cout, float *y, int accumulate, float *scratch) {
    conv_job job = {
        .x = x, .u = filters, .bias = bias, .scale = scale, .shift = shift, .y = y, .scratch = scratch,
        .cin = cin, .cout = cout, .h = height, .w = width,
        .scratch_floats = zipar_winograd_scratch_floats(cin, width),
        .upsample = upsample, .accumulate = accumulate,
    };
    job.tiles_h = (height + 3) / 4;
    job.tiles_w = (width + 3) / 4;
    // Rows of the image split into equal runs of at most UNIT_TILES tiles; narrow images get several
    // tile rows per unit.
    job.units_w = (job.tiles_w + UNIT_TILES - 1) / UNIT_TILES;
    job.row_tiles = ((job.tiles_w + job.units_w - 1) / job.units_w + 7) / 8 * 8;
    job.unit_rows = UNIT_TILES / job.row_tiles;
    job.units = (job.tiles_h + job.unit_rows - 1) / job.unit_rows * job.units_w;
    atomic_init(&job.next_unit, 0);
    int64_t threads = zipar_pool_threads();
    zipar_parallel_for(threads < job.units ? threads : job.units, task, &job);
}
