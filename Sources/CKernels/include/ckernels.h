#ifndef CKERNELS_H
#define CKERNELS_H
#include <stdbool.h>
#include <stdint.h>

/// Output rows per packed weight panel.
#define ZIPAR_PANEL 16

/// Few-row matrix product against packed weights, streaming them once:
/// y[r][j] (+)= sum_i x[r][i] * W[j][i] for r < m and output columns j of panels [p0, p1).
/// W [n][k] (PyTorch nn.Linear layout) is packed in panels of ZIPAR_PANEL rows, each stored k-major:
/// panels[p][i][c] = W[p*ZIPAR_PANEL + c][i] (zero where that row is past n). ldx/ldy: row strides of
/// x and y. accumulate != 0 adds into y.
void zipar_linear_f32(const float *x, int64_t m, int64_t ldx, const float *panels, int64_t n, int64_t k,
                      int64_t p0, int64_t p1, float *y, int64_t ldy, int accumulate);

/// The same with bfloat16 panels (the upper 16 bits of float32 values), widened in registers. Within each
/// k-step the 16 rows sit in slot order 0-3, 8-11, 4-7, 12-15 (panels[p][i][s] holds row slot(s), rows
/// 4-7 and 8-11 swapped), so that one unpack per half widens them.
void zipar_linear_bf16(const float *x, int64_t m, int64_t ldx, const uint16_t *panels, int64_t n, int64_t k,
                       int64_t p0, int64_t p1, float *y, int64_t ldy, int accumulate);

/// The same with int8 panels (slots in order, as float32) and one float32 scale per output row:
/// W[j][i] = panels[..][i][..] · scales[j], scales padded with zeros to whole panels (linear_int8.c).
void zipar_linear_int8(const float *x, int64_t m, int64_t ldx, const int8_t *panels, const float *scales, int64_t n,
                       int64_t k, int64_t p0, int64_t p1, float *y, int64_t ldy, int accumulate);

/// Packs one panel from 16 rows of a matrix, row-major float32 with k columns (rows past the matrix given
/// as zeros): panel[i][slot(c)] = rows[c][i] in the layout of zipar_linear_f32 / _bf16 (bfloat16 rounded to
/// nearest even) / _int8 (pack.c). int8 writes the 16 row scales, max |row| / 127, and rounds row / scale
/// to nearest even (a zero row gets scale 0 and zeros).
void zipar_pack_f32(const float *rows, int64_t k, float *panel);
void zipar_pack_bf16(const float *rows, int64_t k, uint16_t *panel);
void zipar_pack_int8(const float *rows, int64_t k, int8_t *panel, float *scales);

/// One attention query q[head_dim] against cached keys and values [slot][head_dim] of slots 0...last:
/// out = softmax(scale · q·k over the visible slots) · v. A slot is visible when written is NULL, when
/// written[slot] is true, or when it is `last` (the query's own slot, which a query-only input fills without
/// marking it written). scores holds last + 1 floats of scratch.
void zipar_attend_one(const float *q, const float *keys, const float *values, int64_t last,
                      const bool *written, int64_t head_dim, float scale, float *scores, float *out);

/// The same with keys and values cached as bfloat16 (the upper 16 bits of float32 values).
void zipar_attend_one_bf16(const float *q, const uint16_t *keys, const uint16_t *values, int64_t last,
                           const bool *written, int64_t head_dim, float scale, float *scores, float *out);

/// The sum of p[0 ..< n] (n a multiple of 32; partial sums in float over 2^20 values, then double), read
/// as the weight kernels read: the benchmark's memory-bandwidth probe.
double zipar_read_sum(const float *p, int64_t n);

/// A task of a parallel loop: called once per index in [0, count).
typedef void (*zipar_task)(void *context, int64_t index);

/// Runs task(context, i) for every i in [0, count) on a persistent pool (one thread per core, the caller
/// included) and returns when all are done. Workers spin briefly between calls, so the many small
/// parallel loops of a decoding pass do not pay a thread wake-up each. Calls from several threads run one
/// after another; a task must not itself call zipar_parallel_for.
void zipar_parallel_for(int64_t count, zipar_task task, void *context);

/// Threads the pool uses (the caller included): the online processors, at least 1.
int zipar_pool_threads(void);

/// Winograd F(4x4, 3x3) convolution, stride 1, zero padding 1 (winograd.c).
/// Floats of the transformed filters of a [cout][cin][3][3] convolution.
int64_t zipar_winograd_filter_floats(int64_t cout, int64_t cin);

/// Writes the transformed filters of output channels [co0, co1) of w [cout][cin][3][3] into u (which holds
/// zipar_winograd_filter_floats(cout, cin) floats, zero-initialised: the padding rows are not written).
void zipar_winograd_filters(const float *w, int64_t cout, int64_t cin, int64_t co0, int64_t co1, float *u);

/// Scratch floats one pool thread needs for a convolution with cin input channels and images `width` wide.
int64_t zipar_winograd_scratch_floats(int64_t cin, int64_t width);

/// y[cout][height][width] (+)= conv3x3(x') + bias over the pool's threads, with filters from
/// zipar_winograd_filters. x is [cin][height][width], or when upsample != 0 [cin][height/2][width/2], read
/// as its nearest-neighbour x2 upsampling (height and width even). x' = swish(x * scale[c] + shift[c]) per
/// input channel c when scale and shift are given (a GroupNorm + swish folded into the read), else x.
/// accumulate != 0 adds into y. scratch holds zipar_winograd_scratch_floats(cin, width) floats per pool
/// thread.
void zipar_winograd_conv3x3(const float *x, int64_t cin, int64_t height, int64_t width, int upsample,
                            const float *scale, const float *shift, const float *filters, const float *bias,
                            int64_t cout, float *y, int accumulate, float *scratch);

#endif
