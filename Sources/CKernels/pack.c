// Packing of weight panels at load: 16 rows of a matrix (float32, row-major) into one k-major panel of
// the linear kernels' layout, in float32, bfloat16 or int8 with per-row scales.
#include <math.h>
#include "ckernels.h"

#define P ZIPAR_PANEL

void zipar_pack_f32(const float *rows, int64_t k, float *panel) {
    for (int64_t i = 0; i < k; i++)
        for (int c = 0; c < P; c++) panel[i * P + c] = rows[c * k + i];
}

// Round to nearest even on the upper 16 bits; NaN stays NaN (a quiet bit set), as WeightMatrix's Swift code.
static inline uint16_t bf16_bits(float f) {
    union { float f; uint32_t u; } v = { f };
    if (f != f) return (uint16_t)(v.u >> 16) | 0x40;
    return (uint16_t)((v.u + 0x7fff + ((v.u >> 16) & 1)) >> 16);
}

void zipar_pack_bf16(const float *rows, int64_t k, uint16_t *panel) {
    for (int64_t i = 0; i < k; i++)
        for (int c = 0; c < P; c++) {
            int s = c >= 4 && c < 12 ? (c < 8 ? c + 4 : c - 4) : c;
            panel[i * P + s] = bf16_bits(rows[c * k + i]);
        }
}

void zipar_pack_int8(const float *rows, int64_t k, int8_t *panel, float *scales) {
    float inverse[P];
    for (int c = 0; c < P; c++) {
        float largest = 0;
        for (int64_t i = 0; i < k; i++) largest = fmaxf(largest, fabsf(rows[c * k + i]));
        scales[c] = largest / 127.0f;
        inverse[c] = largest > 0 ? 127.0f / largest : 0.0f;
    }
    for (int64_t i = 0; i < k; i++)
        for (int c = 0; c < P; c++) {
            float q = rintf(rows[c * k + i] * inverse[c]);
            panel[i * P + c] = (int8_t)(q > 127 ? 127 : q < -127 ? -127 : q);
        }
}
