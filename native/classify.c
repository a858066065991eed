/* Region classification for adaptive quality (codec/FORMAT.md, "Lossy regions").
 *
 * A tile is a lossy candidate when it changed in most recent frames (video, animation, photos being
 * browsed) and its pixels look like a picture rather than text or UI. Each tile keeps an 8-bit history,
 * one bit a frame, of whether its source pixels changed. "Picture" is judged from a sample of the tile:
 * the number of distinct colours, and how often a pixel differs from its left neighbour. Text and UI
 * have a flat background (most neighbours equal) and few colours; photos and video have neither.
 */
#include <string.h>

#include "kernel.h"

#define SAMPLE_SLOTS 2048 /* power of two, twice the most colours counted (min_colours <= 1024) */

static inline uint32_t px24(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16);
}

static int popcount8(uint8_t v) {
    int n = 0;
    for (; v; v &= (uint8_t)(v - 1)) n++;
    return n;
}

/* Is the tile a picture? Judged from every other pixel of every other row. First the share of samples
 * equal to their left neighbour, stopping as soon as it passes max_flat256 / 256 (text and UI: most of a
 * tile is background, so they are decided here, without hashing a colour); then the distinct colours,
 * stopping at min_colours. */
static int tile_is_picture(const uint8_t *frame, int64_t stride, int32_t x0, int32_t y0, int32_t w, int32_t h,
                           int32_t min_colours, int32_t max_flat256) {
    const int64_t samples = (int64_t)((h + 1) / 2) * (w / 2);
    if (samples == 0) return 0;
    const int64_t flat_limit = samples * max_flat256 / 256;
    int64_t flat = 0;
    for (int32_t r = 0; r < h; r += 2) {
        const uint8_t *row = frame + (int64_t)(y0 + r) * stride + (int64_t)x0 * 4;
        for (int32_t c = 1; c < w; c += 2) flat += px24(row + (int64_t)c * 4) == px24(row + (int64_t)(c - 1) * 4);
        if (flat > flat_limit) return 0;
    }
    uint32_t keys[SAMPLE_SLOTS];
    memset(keys, 0xFF, sizeof keys); /* 0xFFFFFFFF is never a 24-bit colour */
    int32_t n = 0;
    for (int32_t r = 0; r < h; r += 2) {
        const uint8_t *row = frame + (int64_t)(y0 + r) * stride + (int64_t)x0 * 4;
        for (int32_t c = 1; c < w; c += 2) {
            const uint32_t px = px24(row + (int64_t)c * 4);
            uint32_t slot = (px * 2654435761u) >> 21;
            while (keys[slot] != 0xFFFFFFFFu && keys[slot] != px) slot = (slot + 1) & (SAMPLE_SLOTS - 1);
            if (keys[slot] == 0xFFFFFFFFu) {
                keys[slot] = px;
                if (++n >= min_colours) return 1;
            }
        }
    }
    return 0;
}

int32_t os_classify_tiles(const uint8_t *frame, int64_t frame_stride, int32_t width, int32_t height, int32_t tile,
                          const uint8_t *changed, uint8_t *history, uint8_t *classes, int64_t n_tiles,
                          int32_t min_changes, int32_t min_colours, int32_t max_flat256) {
    if (frame == NULL || changed == NULL || history == NULL || classes == NULL || tile < 2 || tile > 4096 ||
        !os_geometry_ok(frame_stride, width, height) || min_changes < 1 || min_changes > 8 || min_colours < 1 ||
        min_colours > 1024 || max_flat256 < 0 || max_flat256 > 256)
        return OS_ERR_ARG;
    const int32_t tiles_x = (width + tile - 1) / tile, tiles_y = (height + tile - 1) / tile;
    if (n_tiles != (int64_t)tiles_x * tiles_y) return OS_ERR_ARG;
    int32_t pictures = 0;
    for (int32_t ty = 0; ty < tiles_y; ty++)
        for (int32_t tx = 0; tx < tiles_x; tx++) {
            const int64_t i = (int64_t)ty * tiles_x + tx;
            history[i] = (uint8_t)((history[i] << 1) | (changed[i] != 0));
            classes[i] = OS_TILE_STILL;
            if (!changed[i] || popcount8(history[i]) < min_changes) continue;
            classes[i] = OS_TILE_BUSY;
            const int32_t x0 = tx * tile, y0 = ty * tile;
            const int32_t w = x0 + tile <= width ? tile : width - x0, h = y0 + tile <= height ? tile : height - y0;
            if (tile_is_picture(frame, frame_stride, x0, y0, w, h, min_colours, max_flat256)) {
                classes[i] = OS_TILE_PICTURE;
                pictures++;
            }
        }
    return pictures;
}

int32_t os_change_box(const uint8_t *frame, int64_t frame_stride, const uint8_t *ref, int64_t ref_stride,
                      int32_t width, int32_t height, int32_t x, int32_t y, int32_t w, int32_t h, int32_t *box) {
    if (frame == NULL || ref == NULL || box == NULL || !os_geometry_ok(frame_stride, width, height) ||
        !os_geometry_ok(ref_stride, width, height))
        return OS_ERR_ARG;
    if (x < 0 || y < 0 || w < 1 || h < 1 || w > width - x || h > height - y) return OS_ERR_BOUNDS;
    int32_t minx = x + w, maxx = x - 1, miny = -1, maxy = -1;
    for (int32_t row = y; row < y + h; row++) {
        const uint8_t *f = frame + row * frame_stride + (int64_t)x * 4, *r = ref + row * ref_stride + (int64_t)x * 4;
        if (memcmp(f, r, (size_t)w * 4) == 0) continue;
        int found = 0;
        for (int32_t c = 0; c < w; c++)
            if (px24(f + (int64_t)c * 4) != px24(r + (int64_t)c * 4)) {
                if (x + c < minx) minx = x + c;
                found = 1;
                break;
            }
        for (int32_t c = w - 1; c >= 0; c--)
            if (px24(f + (int64_t)c * 4) != px24(r + (int64_t)c * 4)) {
                if (x + c > maxx) maxx = x + c;
                break;
            }
        if (!found) continue; /* alpha only */
        if (miny < 0) miny = row;
        maxy = row;
    }
    if (miny < 0) return 0;
    box[0] = minx;
    box[1] = miny;
    box[2] = maxx - minx + 1;
    box[3] = maxy - miny + 1;
    return 1;
}
