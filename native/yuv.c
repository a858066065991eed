/* BGRA <-> I420 (YUV 4:2:0, BT.601 limited range) for the VIDEO op (codec/FORMAT.md, "Lossy regions").
 *
 * The decoder's conversion is part of the format: the encoder mirrors the decoder's framebuffer, so both
 * must turn the same decoded picture into the same pixels on every machine. H.264 decoding is exact by
 * its standard; this integer conversion is exact by construction (a library's SIMD paths may round
 * differently). Chroma is upsampled by repetition. Sizes are even (the format says so).
 */
#include <stddef.h>
#include <string.h>

#include "kernel.h"

/* One row of luma: a plain loop over the pixels that the compiler vectorises. */
static void luma_row(const uint8_t *restrict s, uint8_t *restrict out, int32_t w) {
    for (int32_t c = 0; c < w; c++) {
        const uint8_t *p = s + (int64_t)c * 4;
        out[c] = (uint8_t)(((66 * p[2] + 129 * p[1] + 25 * p[0] + 128) >> 8) + 16);
    }
}

int32_t os_bgra_to_i420(const uint8_t *frame, int64_t frame_stride, int32_t width, int32_t height, int32_t x,
                        int32_t y, int32_t w, int32_t h, uint8_t *out, int64_t out_len) {
    if (frame == NULL || out == NULL || !os_geometry_ok(frame_stride, width, height)) return OS_ERR_ARG;
    if (x < 0 || y < 0 || w < 2 || h < 2 || (w & 1) || (h & 1) || w > width - x || h > height - y)
        return OS_ERR_BOUNDS;
    const int64_t luma = (int64_t)w * h;
    if (out_len < luma + luma / 2) return OS_ERR_CAPACITY;
    uint8_t *py = out, *pu = out + luma, *pv = out + luma + luma / 4;
    const int32_t cw = w / 2;
    for (int32_t r = 0; r < h; r += 2) {
        const uint8_t *s0 = frame + (int64_t)(y + r) * frame_stride + (int64_t)x * 4;
        const uint8_t *s1 = s0 + frame_stride;
        luma_row(s0, py + (int64_t)r * w, w);
        luma_row(s1, py + (int64_t)(r + 1) * w, w);
        uint8_t *u = pu + (int64_t)(r / 2) * cw, *v = pv + (int64_t)(r / 2) * cw;
        for (int32_t c = 0; c < cw; c++) {
            const uint8_t *a = s0 + (int64_t)c * 8, *d = s1 + (int64_t)c * 8;
            const int32_t rs = a[2] + a[6] + d[2] + d[6], gs = a[1] + a[5] + d[1] + d[5];
            const int32_t bs = a[0] + a[4] + d[0] + d[4];
            /* sums of four pixels: the coefficients' 8 fractional bits plus 2 for the average; the
             * results lie in 16..240, so no clamping is needed */
            u[c] = (uint8_t)(((-38 * rs - 74 * gs + 112 * bs + 512) >> 10) + 128);
            v[c] = (uint8_t)(((112 * rs - 94 * gs - 18 * bs + 512) >> 10) + 128);
        }
    }
    return 0;
}

/* (value >> 8) of every sum the conversion can make, clamped to 0..255, from an offset of CLAMP_BIAS:
 * a table lookup instead of two compares a channel. */
#define CLAMP_BIAS 384
static uint8_t clamp_table[1024];
static int clamp_ready;

static void clamp_init(void) {
    if (clamp_ready) return;
    for (int32_t i = 0; i < 1024; i++) {
        const int32_t v = i - CLAMP_BIAS;
        clamp_table[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    clamp_ready = 1; /* idempotent: racing threads write the same bytes */
}

/* The picture hash of the VIDEO op (FORMAT.md): 64-bit, over the rows of the Y, U and V planes without
 * their padding, 8 bytes at a time. Not cryptographic: it catches an access unit that decodes to other
 * pixels than the encoder's (a corrupt one that the H.264 decoder concealed, a decoder that is not exact),
 * before they reach the framebuffer. */
#define HASH_PRIME 0x100000001B3ull
static uint64_t hash_row(uint64_t h, const uint8_t *p, int32_t n) {
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        h = (h ^ v) * HASH_PRIME;
        h ^= h >> 29;
    }
    for (; i < n; i++) h = (h ^ p[i]) * HASH_PRIME;
    return h;
}

int32_t os_i420_to_bgra(const uint8_t *py, int64_t y_stride, int64_t y_len, const uint8_t *pu, int64_t u_stride,
                        int64_t u_len, const uint8_t *pv, int64_t v_stride, int64_t v_len, int32_t w, int32_t h,
                        uint8_t *fb, int64_t stride, int32_t width, int32_t height, int32_t x, int32_t y,
                        uint64_t *hash) {
    if (py == NULL || pu == NULL || pv == NULL || fb == NULL || hash == NULL || !os_geometry_ok(stride, width, height))
        return OS_ERR_ARG;
    if (x < 0 || y < 0 || w < 2 || h < 2 || (w & 1) || (h & 1) || w > width - x || h > height - y)
        return OS_ERR_BOUNDS;
    const int32_t cw = w / 2, ch = h / 2;
    /* every plane holds its rows: stride at least the row, and the last row inside the buffer */
    if (y_stride < w || u_stride < cw || v_stride < cw || y_len < y_stride * (h - 1) + w ||
        u_len < u_stride * (ch - 1) + cw || v_len < v_stride * (ch - 1) + cw)
        return OS_ERR_LENGTH;
    clamp_init();
    const uint8_t *lut = clamp_table + CLAMP_BIAS;
    uint64_t hy = 0xCBF29CE484222325ull, hu = hy ^ 1, hv = hy ^ 2;
    for (int32_t r = 0; r < h; r++) {
        const uint8_t *ly = py + (int64_t)r * y_stride;
        const uint8_t *lu = pu + (int64_t)(r / 2) * u_stride, *lv = pv + (int64_t)(r / 2) * v_stride;
        hy = hash_row(hy, ly, w);
        if (!(r & 1)) {
            hu = hash_row(hu, lu, cw);
            hv = hash_row(hv, lv, cw);
        }
        uint8_t *p = fb + (int64_t)(y + r) * stride + (int64_t)x * 4;
        for (int32_t c = 0; c < cw; c++, p += 8) {
            const int32_t d = lu[c] - 128, e = lv[c] - 128;
            const int32_t bc = 516 * d + 128, gc = 128 - 100 * d - 208 * e, rc = 409 * e + 128;
            const int32_t l0 = 298 * (ly[2 * c] - 16), l1 = 298 * (ly[2 * c + 1] - 16);
            /* (l + c) >> 8 lies in -277..534 for any bytes (the table spans -384..639) */
            p[0] = lut[(l0 + bc) >> 8];
            p[1] = lut[(l0 + gc) >> 8];
            p[2] = lut[(l0 + rc) >> 8];
            p[3] = 0xFF;
            p[4] = lut[(l1 + bc) >> 8];
            p[5] = lut[(l1 + gc) >> 8];
            p[6] = lut[(l1 + rc) >> 8];
            p[7] = 0xFF;
        }
    }
    *hash = (hy ^ (hu * 3) ^ (hv * 5)) * HASH_PRIME;
    return 0;
}
