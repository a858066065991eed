/* Tile compare of a frame against the reference frame.
 *
 * The idle case decides the design: a whole row is compared with one memcmp, which runs at memory speed,
 * and only a row that differs is split into tile segments. A tile found dirty is not looked at again in
 * the rows below it, and a band whose tiles are all dirty is left early.
 */
#include <string.h>

#include "kernel.h"

int32_t os_compare_tiles(const uint8_t *frame, int64_t frame_stride, const uint8_t *ref, int64_t ref_stride,
                         int32_t width, int32_t height, int32_t tile, const uint8_t *only, uint8_t *dirty,
                         int64_t dirty_len) {
    if (frame == NULL || ref == NULL || dirty == NULL || tile < 1 || tile > 4096 ||
        !os_geometry_ok(frame_stride, width, height) || !os_geometry_ok(ref_stride, width, height))
        return OS_ERR_ARG;
    const int32_t tiles_x = (width + tile - 1) / tile, tiles_y = (height + tile - 1) / tile;
    if (dirty_len < (int64_t)tiles_x * tiles_y) return OS_ERR_ARG;
    const size_t row_bytes = (size_t)width * 4;
    int32_t count = 0;
    for (int32_t ty = 0; ty < tiles_y; ty++) {
        uint8_t *drow = dirty + (int64_t)ty * tiles_x;
        const uint8_t *orow = only ? only + (int64_t)ty * tiles_x : NULL;
        memset(drow, 0, (size_t)tiles_x);
        int32_t wanted = tiles_x;
        if (orow) {
            wanted = 0;
            for (int32_t tx = 0; tx < tiles_x; tx++) wanted += orow[tx] != 0;
        }
        const int32_t y0 = ty * tile, y1 = y0 + tile < height ? y0 + tile : height;
        int32_t found = 0;
        for (int32_t y = y0; y < y1 && found < wanted; y++) {
            const uint8_t *f = frame + (int64_t)y * frame_stride, *r = ref + (int64_t)y * ref_stride;
            if (!orow && memcmp(f, r, row_bytes) == 0) continue;
            for (int32_t tx = 0; tx < tiles_x; tx++) {
                if (drow[tx] || (orow && !orow[tx])) continue;
                const int32_t x0 = tx * tile, x1 = x0 + tile < width ? x0 + tile : width;
                if (memcmp(f + (size_t)x0 * 4, r + (size_t)x0 * 4, (size_t)(x1 - x0) * 4) != 0) {
                    drow[tx] = 1;
                    found++;
                }
            }
        }
        count += found;
    }
    return count;
}

int32_t os_blit_rects(uint8_t *dst, int64_t dst_stride, const uint8_t *src, int64_t src_stride, int32_t width,
                      int32_t height, const int32_t *rects, int32_t n_rects) {
    if (dst == NULL || src == NULL || (rects == NULL && n_rects > 0) || n_rects < 0 ||
        !os_geometry_ok(dst_stride, width, height) || !os_geometry_ok(src_stride, width, height))
        return OS_ERR_ARG;
    for (int32_t i = 0; i < n_rects; i++) {
        const int32_t x = rects[4 * i], y = rects[4 * i + 1], w = rects[4 * i + 2], h = rects[4 * i + 3];
        if (x < 0 || y < 0 || w < 1 || h < 1 || w > width - x || h > height - y) return OS_ERR_BOUNDS;
        for (int32_t row = y; row < y + h; row++)
            memcpy(dst + row * dst_stride + (int64_t)x * 4, src + row * src_stride + (int64_t)x * 4,
                   (size_t)w * 4);
    }
    return n_rects;
}
