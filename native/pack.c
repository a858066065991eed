/* Packing dirty tiles into ops + pixel data, and applying an update to a framebuffer.
 *
 * An update payload is  u32 ops_len | ops (ops_len bytes) | pixel data  (codec/FORMAT.md). Ops and pixel
 * data are kept apart because zstd models each better on its own. Alpha is never sent: the decoder writes
 * 255. The applying side trusts nothing: every field is checked against the frame and the section ends
 * before it is used, and apply=0 validates a whole update without writing so that the caller can reject
 * it with the framebuffer untouched.
 */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

#define BGR_MASK 0x00FFFFFFu

static inline uint32_t load_px(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline void store_px(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static inline void put_u16(uint8_t *p, int32_t v) {
    p[0] = (uint8_t)(v & 0xFF);
    p[1] = (uint8_t)((v >> 8) & 0xFF);
}

static inline int32_t get_u16(const uint8_t *p) { return (int32_t)p[0] | ((int32_t)p[1] << 8); }

/* Tight box of the pixels whose B, G or R differ inside (x, y, w, h); 0 when none does. A row is first
 * compared whole; then only the columns outside the box found so far are scanned, so once the box spans
 * the rect the remaining rows cost one memcmp each. (A row whose only difference is alpha may still
 * widen the box vertically: harmless, the pixels are just sent again.) */
static int diff_box(const uint8_t *frame, int64_t fs, const uint8_t *ref, int64_t rs, int32_t x, int32_t y,
                    int32_t w, int32_t h, int32_t *box) {
    int32_t minx = x + w, maxx = x - 1, miny = -1, maxy = -1;
    for (int32_t row = y; row < y + h; row++) {
        const uint8_t *f = frame + row * fs, *r = ref + row * rs;
        if (memcmp(f + (int64_t)x * 4, r + (int64_t)x * 4, (size_t)w * 4) == 0) continue;
        int found = 0;
        for (int32_t c = x; c < minx; c++)
            if ((load_px(f + (int64_t)c * 4) ^ load_px(r + (int64_t)c * 4)) & BGR_MASK) {
                minx = c;
                found = 1;
                break;
            }
        for (int32_t c = x + w - 1; c > maxx && c >= minx; c--)
            if ((load_px(f + (int64_t)c * 4) ^ load_px(r + (int64_t)c * 4)) & BGR_MASK) {
                maxx = c;
                found = 1;
                break;
            }
        if (!found && maxx < minx) continue; /* alpha only, and no box yet */
        if (miny < 0) miny = row;
        maxy = row;
    }
    if (miny < 0 || maxx < minx) return 0;
    box[0] = minx;
    box[1] = miny;
    box[2] = maxx - minx + 1;
    box[3] = maxy - miny + 1;
    return 1;
}

/* Writes palette indices for the box into idx and the colours into pal; returns the colour count, or
 * max_palette + 1 as soon as there are more. A small open-addressing table keeps it one pass. */
#define PAL_SLOTS 1024
static int32_t build_palette(const uint8_t *frame, int64_t fs, const int32_t *box, int32_t max_palette,
                             uint32_t *pal, uint8_t *idx) {
    uint32_t keys[PAL_SLOTS];
    uint8_t vals[PAL_SLOTS];
    memset(keys, 0xFF, sizeof keys); /* 0xFFFFFFFF is never a masked colour */
    int32_t n = 0;
    /* A small direct-mapped cache in front of the table: anti-aliased text cycles through a handful
     * of colours pixel by pixel, and a probe of the hashed table per pixel was the packer's main cost. */
    uint32_t cache_key[64];
    uint8_t cache_idx[64];
    memset(cache_key, 0xFF, sizeof cache_key);
    for (int32_t row = box[1]; row < box[1] + box[3]; row++) {
        const uint8_t *f = frame + row * fs + (int64_t)box[0] * 4;
        /* Screens repeat rows (flat panels, the gaps between text lines): one memcmp, then reuse. */
        if (row > box[1] && memcmp(f, f - fs, (size_t)box[2] * 4) == 0) {
            memcpy(idx, idx - box[2], (size_t)box[2]);
            idx += box[2];
            continue;
        }
        for (int32_t c = 0; c < box[2]; c++) {
            const uint32_t px = load_px(f + (int64_t)c * 4) & BGR_MASK;
            const uint32_t line = (px ^ (px >> 7) ^ (px >> 15)) & 63;
            if (cache_key[line] != px) {
                uint32_t slot = (px * 2654435761u) >> 22;
                while (keys[slot] != 0xFFFFFFFFu && keys[slot] != px) slot = (slot + 1) & (PAL_SLOTS - 1);
                if (keys[slot] == 0xFFFFFFFFu) {
                    if (n >= max_palette) return max_palette + 1;
                    keys[slot] = px;
                    vals[slot] = (uint8_t)n;
                    pal[n++] = px;
                }
                cache_key[line] = px;
                cache_idx[line] = vals[slot];
            }
            *idx++ = cache_idx[line];
        }
    }
    return n;
}

static int colour_order(const void *a, const void *b) {
    const uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Palettes in colour order, not order of appearance: neighbouring boxes of the same text then carry the
 * same palette bytes and the same index for the same colour, which zstd finds again. */
static void sort_palette(uint32_t *pal, int32_t n, uint8_t *idx, int64_t area) {
    uint32_t keyed[OS_MAX_PALETTE + 1];
    uint8_t remap[256];
    for (int32_t k = 0; k < n; k++) keyed[k] = (pal[k] << 8) | (uint32_t)k; /* colour is 24 bits */
    qsort(keyed, (size_t)n, sizeof *keyed, colour_order);
    for (int32_t k = 0; k < n; k++) {
        pal[k] = keyed[k] >> 8;
        remap[keyed[k] & 0xFF] = (uint8_t)k;
    }
    for (int64_t i = 0; i < area; i++) idx[i] = remap[idx[i]];
}

/* Bits per palette index (codec/FORMAT.md): fewer bytes to decompress, and zstd finds the repeats of
 * two- and few-colour text far better in packed rows than in a byte per pixel. */
static int index_bits(int32_t n) { return n <= 2 ? 1 : n <= 4 ? 2 : n <= 16 ? 4 : 8; }

static int64_t packed_row_bytes(int32_t w, int bits) { return ((int64_t)w * bits + 7) / 8; }

/* Packs w x h byte indices in place into rows of `bits`-bit indices, most significant first, each row
 * padded to a whole byte; returns the packed size. In place is safe: row r is written at or before
 * where it is read. */
static inline void pack_row(uint8_t *out, const uint8_t *in, int32_t w, const int bits) {
    const int per = 8 / bits;
    int32_t c = 0;
    for (; c + per <= w; out++) {
        unsigned v = 0;
        for (int j = 0; j < per; j++, c++) v = (v << bits) | in[c];
        *out = (uint8_t)v;
    }
    if (c < w) {
        unsigned v = 0;
        int j = 0;
        for (; c < w; j++, c++) v = (v << bits) | in[c];
        *out = (uint8_t)(v << (bits * (per - j)));
    }
}

static int64_t pack_indices(uint8_t *idx, int32_t w, int32_t h, int bits) {
    if (bits == 8) return (int64_t)w * h;
    const int64_t row_bytes = packed_row_bytes(w, bits);
    for (int32_t r = 0; r < h; r++) {
        const uint8_t *in = idx + (int64_t)r * w;
        uint8_t *out = idx + r * row_bytes;
        /* constant widths so that each gets its own unrolled loop */
        if (bits == 1)
            pack_row(out, in, w, 1);
        else if (bits == 2)
            pack_row(out, in, w, 2);
        else
            pack_row(out, in, w, 4);
    }
    return row_bytes * h;
}

/* Packs one box as a SOLID, PALETTE, DELTA or RAW op at ops + *op, its pixels at data + *dp. */
static int32_t emit_box(const uint8_t *frame, int64_t frame_stride, const uint8_t *ref, int64_t ref_stride,
                        const int32_t *box, int32_t max_palette, uint8_t *ops, int64_t ops_cap, int64_t *op_pos,
                        uint8_t *data, int64_t data_cap, int64_t *data_pos) {
    uint32_t pal[OS_MAX_PALETTE + 1];
    int64_t op = *op_pos, dp = *data_pos;
    const int64_t area = (int64_t)box[2] * box[3];
    if (ops_cap - op < OS_MAX_OP_BYTES || data_cap - dp < area * 3) return OS_ERR_CAPACITY;
    const int32_t n = build_palette(frame, frame_stride, box, max_palette, pal, data + dp);
    uint8_t *o = ops + op;
    put_u16(o + 1, box[0]);
    put_u16(o + 3, box[1]);
    put_u16(o + 5, box[2]);
    put_u16(o + 7, box[3]);
    if (n == 1) {
        o[0] = OS_OP_SOLID;
        o[9] = (uint8_t)(pal[0] & 0xFF);
        o[10] = (uint8_t)((pal[0] >> 8) & 0xFF);
        o[11] = (uint8_t)((pal[0] >> 16) & 0xFF);
        op += 12;
    } else if (n <= max_palette && 3 * (int64_t)n < 2 * area) { /* only when smaller than raw */
        sort_palette(pal, n, data + dp, area);
        o[0] = OS_OP_PALETTE;
        o[9] = (uint8_t)n;
        for (int32_t k = 0; k < n; k++) {
            o[10 + 3 * k] = (uint8_t)(pal[k] & 0xFF);
            o[11 + 3 * k] = (uint8_t)((pal[k] >> 8) & 0xFF);
            o[12 + 3 * k] = (uint8_t)((pal[k] >> 16) & 0xFF);
        }
        op += 10 + 3 * n;
        dp += pack_indices(data + dp, box[2], box[3], index_bits(n));
    } else {
        /* A delta against what the decoder already shows turns unchanged and slightly changed pixels
         * into zeros and small numbers; worth it only when a good share of the box is unchanged. */
        int64_t same = 0;
        if (ref != NULL)
            for (int32_t row = box[1]; row < box[1] + box[3]; row++) {
                const uint8_t *f = frame + row * frame_stride + (int64_t)box[0] * 4;
                const uint8_t *r = ref + row * ref_stride + (int64_t)box[0] * 4;
                for (int32_t c = 0; c < box[2]; c++)
                    same += ((load_px(f + (int64_t)c * 4) ^ load_px(r + (int64_t)c * 4)) & BGR_MASK) == 0;
            }
        const int delta = ref != NULL && same * 4 >= area;
        o[0] = delta ? OS_OP_DELTA : OS_OP_RAW;
        op += 9;
        uint8_t *d = data + dp;
        for (int32_t row = box[1]; row < box[1] + box[3]; row++) {
            const uint8_t *f = frame + row * frame_stride + (int64_t)box[0] * 4;
            const uint8_t *r = delta ? ref + row * ref_stride + (int64_t)box[0] * 4 : NULL;
            for (int32_t c = 0; c < box[2]; c++, f += 4, d += 3) {
                if (delta) {
                    d[0] = (uint8_t)(f[0] - r[0]);
                    d[1] = (uint8_t)(f[1] - r[1]);
                    d[2] = (uint8_t)(f[2] - r[2]);
                    r += 4;
                } else {
                    d[0] = f[0];
                    d[1] = f[1];
                    d[2] = f[2];
                }
            }
        }
        dp += area * 3;
    }
    *op_pos = op;
    *data_pos = dp;
    return 0;
}

int32_t os_pack_tiles(const uint8_t *frame, int64_t frame_stride, const uint8_t *ref, int64_t ref_stride,
                      int32_t width, int32_t height, const int32_t *rects, int32_t n_rects, int32_t split,
                      int32_t max_palette, uint8_t *ops, int64_t ops_cap, int64_t *ops_len, uint8_t *data,
                      int64_t data_cap, int64_t *data_len) {
    if (frame == NULL || ops == NULL || data == NULL || ops_len == NULL || data_len == NULL ||
        (rects == NULL && n_rects > 0) || n_rects < 0 || max_palette < 1 || max_palette > OS_MAX_PALETTE ||
        split < 1 || !os_geometry_ok(frame_stride, width, height) ||
        (ref != NULL && !os_geometry_ok(ref_stride, width, height)))
        return OS_ERR_ARG;
    int64_t op = 0, dp = 0;
    int32_t emitted = 0;
    for (int32_t i = 0; i < n_rects; i++) {
        const int32_t x = rects[4 * i], y = rects[4 * i + 1], w = rects[4 * i + 2], h = rects[4 * i + 3];
        if (x < 0 || y < 0 || w < 1 || h < 1 || w > width - x || h > height - y) return OS_ERR_BOUNDS;
        /* A rect is a run of tiles. Each tile shrinks to the box that changed; neighbouring boxes are
         * packed as one (longer rows, one palette: better for zstd) while their union is at most twice
         * their own area, so an L-shaped change (a dragged window's exposed edge) is not sent as the
         * rectangle around it. */
        int32_t group[4] = {0, 0, 0, 0}, have = 0;
        int64_t own = 0;
        for (int32_t sx = x; sx < x + w; sx += split) {
            int32_t box[4] = {sx, y, sx + split < x + w ? split : x + w - sx, h};
            if (ref != NULL && !diff_box(frame, frame_stride, ref, ref_stride, box[0], box[1], box[2], box[3], box))
                continue;
            if (have) {
                const int32_t ux0 = group[0] < box[0] ? group[0] : box[0];
                const int32_t uy0 = group[1] < box[1] ? group[1] : box[1];
                const int32_t ux1 = group[0] + group[2] > box[0] + box[2] ? group[0] + group[2] : box[0] + box[2];
                const int32_t uy1 = group[1] + group[3] > box[1] + box[3] ? group[1] + group[3] : box[1] + box[3];
                const int64_t box_area = (int64_t)box[2] * box[3];
                if ((int64_t)(ux1 - ux0) * (uy1 - uy0) <= 2 * (own + box_area)) {
                    group[0] = ux0, group[1] = uy0, group[2] = ux1 - ux0, group[3] = uy1 - uy0;
                    own += box_area;
                    continue;
                }
                const int32_t rc = emit_box(frame, frame_stride, ref, ref_stride, group, max_palette, ops, ops_cap,
                                            &op, data, data_cap, &dp);
                if (rc < 0) return rc;
                emitted++;
            }
            memcpy(group, box, sizeof group);
            own = (int64_t)box[2] * box[3];
            have = 1;
        }
        if (have) {
            const int32_t rc = emit_box(frame, frame_stride, ref, ref_stride, group, max_palette, ops, ops_cap, &op,
                                        data, data_cap, &dp);
            if (rc < 0) return rc;
            emitted++;
        }
    }
    *ops_len = op;
    *data_len = dp;
    return emitted;
}

int32_t os_copy_rect(uint8_t *fb, int64_t stride, int32_t width, int32_t height, int32_t sx, int32_t sy,
                     int32_t dx, int32_t dy, int32_t w, int32_t h) {
    if (fb == NULL || !os_geometry_ok(stride, width, height)) return OS_ERR_ARG;
    if (w < 1 || h < 1 || sx < 0 || sy < 0 || dx < 0 || dy < 0 || w > width - sx || w > width - dx ||
        h > height - sy || h > height - dy)
        return OS_ERR_BOUNDS;
    /* Rows in the order that never reads a row already overwritten; memmove handles the overlap in a row. */
    if (dy > sy)
        for (int32_t r = h - 1; r >= 0; r--)
            memmove(fb + (dy + r) * stride + (int64_t)dx * 4, fb + (sy + r) * stride + (int64_t)sx * 4,
                    (size_t)w * 4);
    else
        for (int32_t r = 0; r < h; r++)
            memmove(fb + (dy + r) * stride + (int64_t)dx * 4, fb + (sy + r) * stride + (int64_t)sx * 4,
                    (size_t)w * 4);
    return 0;
}

static uint8_t max_byte(const uint8_t *p, int64_t n) {
    uint8_t m = 0;
    for (int64_t i = 0; i < n; i++) m = p[i] > m ? p[i] : m;
    return m;
}

static inline int unpack_index(const uint8_t *row, int32_t c, int bits) {
    const int per = 8 / bits;
    return (row[c / per] >> (8 - bits * (c % per + 1))) & ((1 << bits) - 1);
}

/* One row of packed indices to pixels; called with a constant `bits` so each width gets its own
 * unrolled loop. */
static inline void palette_row(uint8_t *p, const uint8_t *s, int32_t w, const int bits, const uint32_t *pal) {
    const int per = 8 / bits;
    const unsigned mask = (1u << bits) - 1;
    int32_t c = 0;
    for (; c + per <= w; s++)
        for (int j = 0; j < per; j++, c++) store_px(p + (int64_t)c * 4, pal[(*s >> (8 - bits * (j + 1))) & mask]);
    for (int j = 0; c < w; j++, c++) store_px(p + (int64_t)c * 4, pal[(*s >> (8 - bits * (j + 1))) & mask]);
}

static inline int rect_inside(int32_t x, int32_t y, int32_t w, int32_t h, int32_t width, int32_t height) {
    return w >= 1 && h >= 1 && x + w <= width && y + h <= height;
}

int32_t os_apply_update(uint8_t *fb, int64_t stride, int32_t width, int32_t height, const uint8_t *payload,
                        int64_t payload_len, int32_t apply, int32_t *rects, int32_t rects_cap) {
    return os_apply_update_cached(fb, stride, width, height, payload, payload_len, apply, rects, rects_cap, NULL, 0,
                                  NULL);
}

int32_t os_apply_update_cached(uint8_t *fb, int64_t stride, int32_t width, int32_t height, const uint8_t *payload,
                               int64_t payload_len, int32_t apply, int32_t *rects, int32_t rects_cap,
                               uint8_t *cache, int32_t slots, int32_t *cache_state) {
    return os_apply_update_v3(fb, stride, width, height, payload, payload_len, apply, rects, rects_cap, cache, slots,
                              cache_state, NULL, NULL, 0);
}

int32_t os_apply_update_v3(uint8_t *fb, int64_t stride, int32_t width, int32_t height, const uint8_t *payload,
                           int64_t payload_len, int32_t apply, int32_t *rects, int32_t rects_cap, uint8_t *cache,
                           int32_t slots, int32_t *cache_state, int64_t *video, const uint8_t *picture,
                           int64_t picture_stride) {
    /* fb may be NULL when only validating: nothing is written then, and width/height/stride say the
     * frame size the update must fit (a keyframe of a new size is checked before its frame exists). */
    if ((fb == NULL && apply) || (payload == NULL && payload_len > 0) || payload_len < 0 ||
        !os_geometry_ok(stride, width, height) || (apply && rects == NULL && rects_cap > 0) || slots < 0 ||
        slots > 65536 || (slots > 0 && (cache_state == NULL || (apply && cache == NULL))) ||
        (slots > 0 && (cache_state[0] < 0 || cache_state[0] > slots || cache_state[1] < 0 ||
                       cache_state[1] >= slots)))
        return OS_ERR_ARG;
    /* The cache as it will be after each op: validation follows the STOREs too, without writing. */
    int32_t filled = slots > 0 ? cache_state[0] : 0, next = slots > 0 ? cache_state[1] : 0;
    const size_t tile_row = OS_CACHE_TILE * 4;
    if (payload_len < 4) return OS_ERR_TRUNCATED;
    const int64_t ops_len =
        (int64_t)payload[0] | ((int64_t)payload[1] << 8) | ((int64_t)payload[2] << 16) | ((int64_t)payload[3] << 24);
    if (ops_len > payload_len - 4) return OS_ERR_TRUNCATED;
    const uint8_t *o = payload + 4, *const o_end = payload + 4 + ops_len;
    const uint8_t *d = o_end, *const d_end = payload + payload_len;
    int32_t n_ops = 0;
    if (video != NULL) video[0] = -1;
    uint32_t pal[256];
    uint32_t expand[256 * 8]; /* pixels of every byte of packed indices, for large PALETTE boxes */
    while (o < o_end) {
        const int kind = o[0];
        const int64_t left = o_end - o;
        int32_t x, y, w, h;
        if (kind == OS_OP_COPY) {
            if (left < 13) return OS_ERR_TRUNCATED;
            const int32_t sx = get_u16(o + 1), sy = get_u16(o + 3);
            x = get_u16(o + 5), y = get_u16(o + 7), w = get_u16(o + 9), h = get_u16(o + 11);
            if (!rect_inside(sx, sy, w, h, width, height) || !rect_inside(x, y, w, h, width, height))
                return OS_ERR_BOUNDS;
            if (apply) os_copy_rect(fb, stride, width, height, sx, sy, x, y, w, h);
            o += 13;
        } else if (kind == OS_OP_FETCH && slots > 0) {
            if (left < 7) return OS_ERR_TRUNCATED;
            const int32_t slot = get_u16(o + 1);
            x = get_u16(o + 3), y = get_u16(o + 5), w = OS_CACHE_TILE, h = OS_CACHE_TILE;
            if (slot >= filled) return OS_ERR_CACHE;
            if (!rect_inside(x, y, w, h, width, height)) return OS_ERR_BOUNDS;
            if (apply) {
                const uint8_t *tile = cache + (int64_t)slot * OS_CACHE_TILE_BYTES;
                for (int32_t r = 0; r < OS_CACHE_TILE; r++)
                    memcpy(fb + (y + r) * stride + (int64_t)x * 4, tile + r * tile_row, tile_row);
            }
            o += 7;
        } else if (kind == OS_OP_STORE && slots > 0) {
            if (left < 5) return OS_ERR_TRUNCATED;
            x = get_u16(o + 1), y = get_u16(o + 3), w = OS_CACHE_TILE, h = OS_CACHE_TILE;
            if (!rect_inside(x, y, w, h, width, height)) return OS_ERR_BOUNDS;
            if (apply) {
                uint8_t *tile = cache + (int64_t)next * OS_CACHE_TILE_BYTES;
                for (int32_t r = 0; r < OS_CACHE_TILE; r++)
                    memcpy(tile + r * tile_row, fb + (y + r) * stride + (int64_t)x * 4, tile_row);
            }
            next = next + 1 == slots ? 0 : next + 1;
            if (filled < slots) filled++;
            o += 5;
            continue; /* a STORE changes no pixel: no rectangle to report */
        } else if (kind == OS_OP_VIDEO && video != NULL) {
            if (left < OS_VIDEO_OP_BYTES) return OS_ERR_TRUNCATED;
            x = get_u16(o + 1), y = get_u16(o + 3), w = get_u16(o + 5), h = get_u16(o + 7);
            const int32_t flags = o[9];
            const int64_t size = (int64_t)o[10] | ((int64_t)o[11] << 8) | ((int64_t)o[12] << 16) | ((int64_t)o[13] << 24);
            if (w < 2 || h < 2 || (w & 1) || (h & 1) || (flags & ~OS_VIDEO_NEW_STREAM) || size < 1 || video[0] >= 0)
                return OS_ERR_OPCODE; /* odd or tiny picture, unknown flag, empty access unit, a second VIDEO */
            if (!rect_inside(x, y, w, h, width, height)) return OS_ERR_BOUNDS;
            if (d_end - d < size) return OS_ERR_TRUNCATED;
            video[0] = x, video[1] = y, video[2] = w, video[3] = h, video[4] = flags, video[5] = d - payload;
            video[6] = size, video[7] = o + 14 - payload;
            if (apply) {
                /* the caller decoded this op's access unit: a picture of exactly its size */
                if (picture == NULL || picture_stride < (int64_t)w * 4) return OS_ERR_ARG;
                for (int32_t r = 0; r < h; r++)
                    memcpy(fb + (y + r) * stride + (int64_t)x * 4, picture + r * picture_stride, (size_t)w * 4);
            }
            o += OS_VIDEO_OP_BYTES; /* the picture hash (o + 14, 8 bytes) is the caller's to check */
            d += size;
        } else if (kind >= OS_OP_SOLID && kind <= OS_OP_PALETTE) {
            if (left < 9) return OS_ERR_TRUNCATED;
            x = get_u16(o + 1), y = get_u16(o + 3), w = get_u16(o + 5), h = get_u16(o + 7);
            if (w < 1 || h < 1) return OS_ERR_OPCODE;
            if (!rect_inside(x, y, w, h, width, height)) return OS_ERR_BOUNDS;
            const int64_t area = (int64_t)w * h;
            uint8_t *dst = fb + y * stride + (int64_t)x * 4;
            if (kind == OS_OP_SOLID) {
                if (left < 12) return OS_ERR_TRUNCATED;
                const uint32_t px = (uint32_t)o[9] | ((uint32_t)o[10] << 8) | ((uint32_t)o[11] << 16) | 0xFF000000u;
                if (apply)
                    for (int32_t r = 0; r < h; r++)
                        for (int32_t c = 0; c < w; c++) store_px(dst + r * stride + (int64_t)c * 4, px);
                o += 12;
            } else if (kind == OS_OP_PALETTE) {
                if (left < 10) return OS_ERR_TRUNCATED;
                const int32_t n = o[9];
                if (n < 2) return OS_ERR_OPCODE;
                if (left < 10 + 3 * (int64_t)n) return OS_ERR_TRUNCATED;
                const int bits = index_bits(n);
                const int64_t row_bytes = packed_row_bytes(w, bits), size = row_bytes * h;
                if (d_end - d < size) return OS_ERR_TRUNCATED;
                memset(pal, 0, sizeof pal);
                for (int32_t k = 0; k < n; k++)
                    pal[k] = (uint32_t)o[10 + 3 * k] | ((uint32_t)o[11 + 3 * k] << 8) |
                             ((uint32_t)o[12 + 3 * k] << 16) | 0xFF000000u;
                /* Indices are checked in both passes, before this op writes anything. A byte index
                 * by a max reduction (vectorises); packed ones one by one, unless every value the
                 * width can hold is a colour (n = 2 with 1 bit, n = 4 with 2 bits). */
                if (bits == 8) {
                    if (max_byte(d, size) >= n) return OS_ERR_OPCODE;
                } else if (n < (1 << bits)) {
                    for (int32_t r = 0; r < h; r++)
                        for (int32_t c = 0; c < w; c++)
                            if (unpack_index(d + r * row_bytes, c, bits) >= n) return OS_ERR_OPCODE;
                }
                if (apply && bits < 8 && area >= 2048) {
                    /* Large packed boxes: expand each possible byte to its pixels once, then copy. */
                    const int per = 8 / bits;
                    const unsigned mask = (1u << bits) - 1;
                    for (int v = 0; v < 256; v++)
                        for (int j = 0; j < per; j++) expand[v * per + j] = pal[(v >> (8 - bits * (j + 1))) & mask];
                    for (int32_t r = 0; r < h; r++) {
                        uint8_t *p = dst + r * stride;
                        const uint8_t *s = d + r * row_bytes;
                        int32_t c = 0;
                        for (; c + per <= w; c += per, s++) memcpy(p + (int64_t)c * 4, &expand[*s * per], (size_t)per * 4);
                        if (c < w) memcpy(p + (int64_t)c * 4, &expand[*s * per], (size_t)(w - c) * 4);
                    }
                } else if (apply) {
                    for (int32_t r = 0; r < h; r++) {
                        uint8_t *p = dst + r * stride;
                        const uint8_t *s = d + r * row_bytes;
                        switch (bits) {
                        case 1: palette_row(p, s, w, 1, pal); break;
                        case 2: palette_row(p, s, w, 2, pal); break;
                        case 4: palette_row(p, s, w, 4, pal); break;
                        default:
                            for (int32_t c = 0; c < w; c++) store_px(p + (int64_t)c * 4, pal[s[c]]);
                        }
                    }
                }
                o += 10 + 3 * n;
                d += size;
            } else {
                if (d_end - d < area * 3) return OS_ERR_TRUNCATED;
                if (apply) {
                    const uint8_t *s = d;
                    for (int32_t r = 0; r < h; r++) {
                        uint8_t *p = dst + r * stride;
                        if (kind == OS_OP_RAW)
                            for (int32_t c = 0; c < w; c++, p += 4, s += 3) {
                                p[0] = s[0];
                                p[1] = s[1];
                                p[2] = s[2];
                                p[3] = 0xFF;
                            }
                        else
                            for (int32_t c = 0; c < w; c++, p += 4, s += 3) {
                                p[0] = (uint8_t)(p[0] + s[0]);
                                p[1] = (uint8_t)(p[1] + s[1]);
                                p[2] = (uint8_t)(p[2] + s[2]);
                                p[3] = 0xFF;
                            }
                    }
                }
                o += 9;
                d += area * 3;
            }
        } else {
            return OS_ERR_OPCODE;
        }
        if (apply) {
            if (n_ops >= rects_cap) return OS_ERR_CAPACITY;
            int32_t *out = rects + 5 * (int64_t)n_ops;
            out[0] = kind;
            out[1] = x;
            out[2] = y;
            out[3] = w;
            out[4] = h;
        }
        if (n_ops == INT32_MAX) return OS_ERR_LENGTH;
        n_ops++;
    }
    if (d != d_end) return OS_ERR_LENGTH;
    if (apply && slots > 0) {
        cache_state[0] = filled;
        cache_state[1] = next;
    }
    return n_ops;
}
