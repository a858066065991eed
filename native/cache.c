/* The tile content cache (codec/FORMAT.md, "Content cache"): content seen before is sent as a reference.
 *
 * Both sides keep the same ring of OS_CACHE_SLOTS tiles of OS_CACHE_TILE x OS_CACHE_TILE BGRA pixels. A
 * STORE op copies a framebuffer tile into the next slot of the ring, a FETCH op copies a slot back into the
 * framebuffer (both applied by os_apply_update_cached in pack.c). The encoder finds candidates by a 64-bit
 * hash of each tile and proves every hit with a memcmp against its own copy of the slot, so a hash
 * collision can cost a miss but never a wrong pixel.
 */
#include <string.h>

#include "kernel.h"

static inline uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t mix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 33;
    return h;
}

/* Hash of one full tile, from every HASH_ROW_STEP-th row; 0 for a tile of one colour in those rows (one
 * SOLID op is cheaper than a slot) and never 0 otherwise. The hash only finds candidates (each hit is
 * proven by memcmp), and hashing every row was compute-bound: 1.5 ms for a 1080p page, 0.3 ms at every
 * 4th row, 0.13 ms at every 8th. Any change 8 or more rows tall still meets a hashed row.
 * Tiles that differ only between sampled rows share a hash and then miss, which costs bytes, not
 * exactness. Four independent lanes keep the multiplies from waiting on each other. */
#define HASH_ROW_STEP 8
static uint64_t tile_hash(const uint8_t *p, int64_t stride) {
    const uint64_t first = load64(p) & 0xFFFFFFFFull;
    const uint64_t pair = first | (first << 32);
    uint64_t a = 0x9E3779B97F4A7C15ull, b = 0xBF58476D1CE4E5B9ull, c = 0x94D049BB133111EBull,
             d = 0x2545F4914F6CDD1Dull, other = 0;
    for (int32_t r = 3; r < OS_CACHE_TILE; r += HASH_ROW_STEP) {
        const uint8_t *row = p + r * stride;
        for (int32_t k = 0; k < OS_CACHE_TILE * 4; k += 32) {
            const uint64_t w0 = load64(row + k), w1 = load64(row + k + 8), w2 = load64(row + k + 16),
                           w3 = load64(row + k + 24);
            other |= (w0 ^ pair) | (w1 ^ pair) | (w2 ^ pair) | (w3 ^ pair);
            a = (a ^ w0) * 0x100000001B3ull + (a >> 29);
            b = (b ^ w1) * 0x100000001B3ull + (b >> 29);
            c = (c ^ w2) * 0x100000001B3ull + (c >> 29);
            d = (d ^ w3) * 0x100000001B3ull + (d >> 29);
        }
    }
    if (other == 0) return 0;
    const uint64_t h = mix(a ^ mix(b ^ mix(c ^ mix(d))));
    return h ? h : 1;
}

int32_t os_hash_tiles(const uint8_t *frame, int64_t frame_stride, int32_t width, int32_t height, const uint8_t *only,
                      uint64_t *hashes, int64_t n_tiles) {
    if (frame == NULL || hashes == NULL || !os_geometry_ok(frame_stride, width, height)) return OS_ERR_ARG;
    const int32_t tiles_x = (width + OS_CACHE_TILE - 1) / OS_CACHE_TILE;
    const int32_t tiles_y = (height + OS_CACHE_TILE - 1) / OS_CACHE_TILE;
    if (n_tiles != (int64_t)tiles_x * tiles_y) return OS_ERR_ARG;
    int32_t count = 0;
    for (int32_t ty = 0; ty < tiles_y; ty++)
        for (int32_t tx = 0; tx < tiles_x; tx++) {
            const int64_t i = (int64_t)ty * tiles_x + tx;
            hashes[i] = 0;
            /* only whole tiles are cached: the partial ones at the right and bottom edges are not */
            if ((only && !only[i]) || (tx + 1) * OS_CACHE_TILE > width || (ty + 1) * OS_CACHE_TILE > height)
                continue;
            hashes[i] = tile_hash(frame + (int64_t)ty * OS_CACHE_TILE * frame_stride +
                                      (int64_t)tx * OS_CACHE_TILE * 4,
                                  frame_stride);
            count += hashes[i] != 0;
        }
    return count;
}

int32_t os_cache_tiles(const uint8_t *frame, int64_t frame_stride, int32_t width, int32_t height, uint8_t *cache,
                       int32_t slots, const int32_t *jobs, int32_t n_jobs, int32_t store, uint8_t *equal, uint8_t *mirror,
                       int64_t mirror_stride) {
    if (frame == NULL || cache == NULL || slots < 1 || (jobs == NULL && n_jobs > 0) || n_jobs < 0 ||
        (!store && equal == NULL) || !os_geometry_ok(frame_stride, width, height) ||
        (mirror != NULL && !os_geometry_ok(mirror_stride, width, height)))
        return OS_ERR_ARG;
    const size_t row = OS_CACHE_TILE * 4;
    for (int32_t i = 0; i < n_jobs; i++) {
        const int32_t x = jobs[3 * i], y = jobs[3 * i + 1], slot = jobs[3 * i + 2];
        if (x < 0 || y < 0 || x > width - OS_CACHE_TILE || y > height - OS_CACHE_TILE || slot < 0 ||
            slot >= slots)
            return OS_ERR_BOUNDS;
        uint8_t *tile = cache + (int64_t)slot * OS_CACHE_TILE_BYTES;
        const uint8_t *src = frame + y * frame_stride + (int64_t)x * 4;
        if (store) {
            for (int32_t r = 0; r < OS_CACHE_TILE; r++) memcpy(tile + r * row, src + r * frame_stride, row);
        } else {
            int32_t same = 1;
            for (int32_t r = 0; r < OS_CACHE_TILE && same; r++)
                same = memcmp(tile + r * row, src + r * frame_stride, row) == 0;
            equal[i] = (uint8_t)same;
            /* the encoder's mirror of the decoder's frame takes the tile while it is still in the cache */
            if (same && mirror != NULL)
                for (int32_t r = 0; r < OS_CACHE_TILE; r++)
                    memcpy(mirror + (y + r) * mirror_stride + (int64_t)x * 4, src + r * frame_stride, row);
        }
    }
    return n_jobs;
}
