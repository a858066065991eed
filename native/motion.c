/* Scroll and move detection: regions of the new frame that are a copy of the reference at an offset.
 *
 * 1. Candidate offsets by voting. Short horizontal segments (SEG pixels) of the reference are hashed at
 *    every x of every S-th row of the dirty tiles (a rolling hash); segments of the new frame are hashed
 *    at every SEG-aligned x of every row of the dirty tiles and looked up. Each hit on a segment that is
 *    unique in the table votes for (dx, dy). Because the new frame is probed at every row, any vertical
 *    offset meets a sampled reference row; because the reference is hashed at every x, any horizontal
 *    offset is found too. Uniform segments (background) say nothing and are skipped.
 * 2. For the best few offsets, each dirty tile whose pixels equal the reference tile at that offset is
 *    claimed (exact memcmp), claimed tiles are merged into rectangles, and each rectangle grows pixel by
 *    pixel (rows, then columns) while the pixels still match, so a scroll or a dragged window is covered
 *    up to its exact edges and only what is newly exposed remains to be sent.
 * 3. The moves are ordered so that none reads pixels an earlier one wrote (the decoder applies them in
 *    order, codec/FORMAT.md); a move that would is dropped.
 * Every rectangle returned has been verified pixel for pixel, so applying it can only make pixels equal
 * to the new frame.
 */
#include <stdlib.h> /* qsort */
#include <string.h>
#ifdef OS_MOTION_DEBUG
#include <stdio.h>
#endif

#include "kernel.h"

#define SEG 16
#define HASH_MUL 0x9E3779B97F4A7C15ull
#define MAX_CANDIDATES 6
#define MIN_VOTES 3
#define VOTE_SLOTS 4096
#define MAX_RECTS 1024
#define DUP 0xFFFFFFFFu
#define TABLE_INSERTS 65536
#define PROBES 16384

typedef struct {
    uint32_t key; /* upper hash bits, never 0 */
    uint32_t where; /* x << 16 | y of a unique segment, or DUP */
} entry_t;

/* A whole pixel (alpha included, as the copies are verified) and its colour alone. */
static inline uint32_t px32(const uint8_t *row, int32_t x) {
    uint32_t v;
    memcpy(&v, row + (int64_t)x * 4, 4);
    return v;
}

static inline uint32_t px_at(const uint8_t *row, int32_t x) { return px32(row, x) & 0x00FFFFFFu; }

typedef struct {
    int32_t x, y, w, h; /* destination */
    int32_t ox, oy;     /* destination - source */
} move_t;

typedef struct {
    uint32_t key; /* (dx + 32768) << 16 | (dy + 32768), plus one so that 0 means empty */
    uint32_t votes;
} vote_t;

static void vote(vote_t *table, int32_t dx, int32_t dy) {
    const uint32_t key = ((((uint32_t)(dx + 32768)) << 16) | (uint32_t)(dy + 32768)) + 1u;
    uint32_t slot = (key * 2654435761u) >> 20;
    for (int probe = 0; probe < 64; probe++, slot = (slot + 1) & (VOTE_SLOTS - 1)) {
        if (table[slot].key == key) {
            table[slot].votes++;
            return;
        }
        if (table[slot].key == 0) {
            table[slot].key = key;
            table[slot].votes = 1;
            return;
        }
    }
}

/* Does frame rect (x, y, w, h) equal ref at (x - ox, y - oy)? The caller keeps both inside. */
static int rect_equal(const uint8_t *frame, int64_t fs, const uint8_t *ref, int64_t rs, int32_t x, int32_t y,
                      int32_t w, int32_t h, int32_t ox, int32_t oy) {
    for (int32_t r = y; r < y + h; r++)
        if (memcmp(frame + r * fs + (int64_t)x * 4, ref + (int64_t)(r - oy) * rs + (int64_t)(x - ox) * 4,
                   (size_t)w * 4) != 0)
            return 0;
    return 1;
}

/* How many columns left (dir = -1) or right (dir = +1) of the rect's edge match in every row, at most
 * limit. Row by row along memory, narrowing as rows disagree: a column at a time down the rows would
 * miss the cache on every pixel. A row whose whole remaining span matches (most rows of a scrolled
 * region) costs one memcmp; only a row that disagrees is walked pixel by pixel from the edge. */
static int32_t matching_columns(const uint8_t *frame, int64_t fs, const uint8_t *ref, int64_t rs,
                                const move_t *m, int dir, int32_t limit) {
    const int32_t edge = dir < 0 ? m->x - 1 : m->x + m->w;
    for (int32_t r = m->y; r < m->y + m->h && limit > 0; r++) {
        const uint8_t *f = frame + r * fs, *g = ref + (int64_t)(r - m->oy) * rs;
        const int32_t lo = dir < 0 ? edge - limit + 1 : edge;
        if (memcmp(f + (int64_t)lo * 4, g + (int64_t)(lo - m->ox) * 4, (size_t)limit * 4) == 0) continue;
        int32_t k = 0;
        while (k < limit && px32(f, edge + dir * k) == px32(g, edge + dir * k - m->ox)) k++;
        limit = k;
    }
    return limit;
}

static void grow(const uint8_t *frame, int64_t fs, const uint8_t *ref, int64_t rs, int32_t width, int32_t height,
                 int32_t limit, move_t *m) {
    for (int32_t n = 0; n < limit && m->y > 0 && m->y - 1 - m->oy >= 0 &&
                        rect_equal(frame, fs, ref, rs, m->x, m->y - 1, m->w, 1, m->ox, m->oy);
         n++)
        m->y--, m->h++;
    for (int32_t n = 0; n < limit && m->y + m->h < height && m->y + m->h - m->oy < height &&
                        rect_equal(frame, fs, ref, rs, m->x, m->y + m->h, m->w, 1, m->ox, m->oy);
         n++)
        m->h++;
    /* columns: bounded by the frame on both the destination and the source side */
    int32_t left = limit;
    if (left > m->x) left = m->x;
    if (left > m->x - m->ox) left = m->x - m->ox;
    left = left > 0 ? matching_columns(frame, fs, ref, rs, m, -1, left) : 0;
    m->x -= left;
    m->w += left;
    int32_t right = limit;
    if (right > width - (m->x + m->w)) right = width - (m->x + m->w);
    if (right > width - (m->x + m->w - m->ox)) right = width - (m->x + m->w - m->ox);
    right = right > 0 ? matching_columns(frame, fs, ref, rs, m, 1, right) : 0;
    m->w += right;
}

/* Claims, in one tile row, the unclaimed tiles of columns [tx0, tx1) that equal the reference at offset
 * (ox, oy) (the whole tile inside the frame on both sides). The rows are compared in frame order over
 * runs of tiles still in question, one memcmp a run: the offset that is right (a scroll, a window)
 * reads its whole region this way, and long sequential reads of the two frames go about half again as
 * fast as a tile at a time (64 rows of 256 bytes, 7.5 KiB apart). A run that differs is split into its
 * tiles, and a tile that differs drops out. `alive` holds tx1 - tx0 bytes. */
static void claim_row(const uint8_t *frame, int64_t fs, const uint8_t *ref, int64_t rs, int32_t width,
                      int32_t height, int32_t tile, int32_t ty, int32_t tx0, int32_t tx1, int32_t ox, int32_t oy,
                      uint8_t mark, uint8_t *claim_row_of, uint8_t *alive) {
    const int32_t y0 = ty * tile, h = y0 + tile < height ? tile : height - y0;
    if (y0 - oy < 0 || y0 - oy + h > height) return;
    int32_t left = 0;
    for (int32_t tx = tx0; tx < tx1; tx++) {
        const int32_t x = tx * tile, w = x + tile < width ? tile : width - x;
        alive[tx - tx0] = !claim_row_of[tx] && x - ox >= 0 && x - ox + w <= width;
        left += alive[tx - tx0];
    }
    for (int32_t r = y0; r < y0 + h && left > 0; r++) {
        const uint8_t *f = frame + r * fs, *g = ref + (int64_t)(r - oy) * rs;
        for (int32_t tx = tx0; tx < tx1; tx++) {
            if (!alive[tx - tx0]) continue;
            int32_t end = tx + 1; /* the run of alive tiles [tx, end) */
            while (end < tx1 && alive[end - tx0]) end++;
            const int32_t x = tx * tile, x1 = end * tile < width ? end * tile : width;
            if (memcmp(f + (int64_t)x * 4, g + (int64_t)(x - ox) * 4, (size_t)(x1 - x) * 4) != 0)
                for (int32_t k = tx; k < end; k++) {
                    const int32_t kx = k * tile, kw = kx + tile < width ? tile : width - kx;
                    if (memcmp(f + (int64_t)kx * 4, g + (int64_t)(kx - ox) * 4, (size_t)kw * 4) != 0) {
                        alive[k - tx0] = 0;
                        left--;
                    }
                }
            tx = end;
        }
    }
    for (int32_t tx = tx0; tx < tx1; tx++)
        if (alive[tx - tx0]) claim_row_of[tx] = mark;
}

/* Clean tiles were claimed too so that a scrolled region stays whole across blank line ends; but a
 * rectangle's outer rows and columns of clean tiles (the unchanged desktop around a dragged window) only
 * make the copy bigger, so they go. The rect is tile-aligned here. */
static int tile_column_clean(const uint8_t *dirty, int32_t tiles_x, int32_t tx, int32_t ty0, int32_t ty1) {
    for (int32_t ty = ty0; ty < ty1; ty++)
        if (dirty[(int64_t)ty * tiles_x + tx]) return 0;
    return 1;
}

static int tile_row_clean(const uint8_t *dirty, int32_t tiles_x, int32_t ty, int32_t tx0, int32_t tx1) {
    for (int32_t tx = tx0; tx < tx1; tx++)
        if (dirty[(int64_t)ty * tiles_x + tx]) return 0;
    return 1;
}

static void trim_clean(const uint8_t *dirty, int32_t tiles_x, int32_t tile, int32_t width, int32_t height,
                       move_t *m) {
    int32_t tx0 = m->x / tile, ty0 = m->y / tile;
    int32_t tx1 = (m->x + m->w + tile - 1) / tile, ty1 = (m->y + m->h + tile - 1) / tile;
    while (tx0 < tx1 && tile_column_clean(dirty, tiles_x, tx0, ty0, ty1)) tx0++;
    while (tx1 > tx0 && tile_column_clean(dirty, tiles_x, tx1 - 1, ty0, ty1)) tx1--;
    while (ty0 < ty1 && tile_row_clean(dirty, tiles_x, ty0, tx0, tx1)) ty0++;
    while (ty1 > ty0 && tile_row_clean(dirty, tiles_x, ty1 - 1, tx0, tx1)) ty1--;
    if (tx0 >= tx1 || ty0 >= ty1) {
        m->w = m->h = 0;
        return;
    }
    m->x = tx0 * tile;
    m->y = ty0 * tile;
    m->w = (tx1 * tile < width ? tx1 * tile : width) - m->x;
    m->h = (ty1 * tile < height ? ty1 * tile : height) - m->y;
}

static int overlaps(const move_t *a_dst, int32_t sx, int32_t sy, int32_t w, int32_t h) {
    return sx < a_dst->x + a_dst->w && a_dst->x < sx + w && sy < a_dst->y + a_dst->h && a_dst->y < sy + h;
}

/* Applying order: like memmove, the side the content moves towards goes first. */
static int move_order(const void *pa, const void *pb) {
    const move_t *a = pa, *b = pb;
    if (a->oy != b->oy || a->ox != b->ox) return 0;
    if (a->y != b->y) return (a->oy > 0) ? (b->y > a->y) - (b->y < a->y) : (a->y > b->y) - (a->y < b->y);
    return (a->ox > 0) ? (b->x > a->x) - (b->x < a->x) : (a->x > b->x) - (a->x < b->x);
}

static int larger_first(const void *pa, const void *pb) {
    const move_t *a = pa, *b = pb;
    const int64_t area_a = (int64_t)a->w * a->h, area_b = (int64_t)b->w * b->h;
    return (area_b > area_a) - (area_b < area_a);
}

/* The largest of the four bands of `r` outside `o` (they overlap): a part of a verified rectangle is
 * verified too. Width 0 when `o` covers `r`. */
static move_t outside(const move_t *r, const move_t *o) {
    move_t best = *r, band = *r;
    int64_t best_area = 0;
    best.w = best.h = 0;
    if (o->y > r->y) { /* above */
        band = *r, band.h = o->y - r->y;
        if ((int64_t)band.w * band.h > best_area) best = band, best_area = (int64_t)band.w * band.h;
    }
    if (o->y + o->h < r->y + r->h) { /* below */
        band = *r, band.y = o->y + o->h, band.h = r->y + r->h - band.y;
        if ((int64_t)band.w * band.h > best_area) best = band, best_area = (int64_t)band.w * band.h;
    }
    if (o->x > r->x) { /* left */
        band = *r, band.w = o->x - r->x;
        if ((int64_t)band.w * band.h > best_area) best = band, best_area = (int64_t)band.w * band.h;
    }
    if (o->x + o->w < r->x + r->w) { /* right */
        band = *r, band.x = o->x + o->w, band.w = r->x + r->w - band.x;
        if ((int64_t)band.w * band.h > best_area) best = band;
    }
    return best;
}

/* Growing lets rectangles of one offset overlap (a tile claimed just below a dragged window grows up
 * into the window's rectangle). Two copies of one offset whose destinations overlap each read pixels
 * the other writes, so no order works and step 3 would drop one of them whole, however large. Here the
 * larger keeps the overlap and the smaller shrinks to its largest band outside. Returns the new end. */
static int32_t separate(move_t *found, int32_t first, int32_t n_found) {
    qsort(found + first, (size_t)(n_found - first), sizeof *found, larger_first);
    int32_t kept = first;
    for (int32_t k = first; k < n_found; k++) {
        move_t r = found[k];
        for (int32_t j = first; j < kept && r.w > 0; j++)
            if (overlaps(&found[j], r.x, r.y, r.w, r.h)) r = outside(&r, &found[j]);
        if (r.w > 0 && r.h > 0) found[kept++] = r;
    }
    return kept;
}

/* Table slots for at most `inserts` entries: a power of two, at most half full. */
static int64_t table_slots(int64_t inserts) {
    int64_t slots = 1024;
    while (slots < inserts * 2) slots <<= 1;
    return slots;
}

/* Table slots for the largest search of a frame size: step >= dirty/TABLE_INSERTS rounded down to odd,
 * so dirty/step <= 1.5 TABLE_INSERTS; plus one partial sampled row per tile row (see `inserts` below). */
static int64_t max_table_slots(int32_t width, int32_t height, int32_t tile) {
    const int64_t tiles_y = (height + tile - 1) / tile;
    return table_slots(2 * (int64_t)TABLE_INSERTS + tiles_y * width);
}

int64_t os_motion_scratch_size(int32_t width, int32_t height, int32_t tile) {
    if (width < 1 || height < 1 || tile < SEG || tile > 4096) return OS_ERR_ARG;
    const int64_t tiles_x = (width + tile - 1) / tile, tiles_y = (height + tile - 1) / tile;
    return max_table_slots(width, height, tile) * (int64_t)sizeof(entry_t) +
           VOTE_SLOTS * (int64_t)sizeof(vote_t) + MAX_RECTS * (int64_t)sizeof(move_t) + tiles_x * (tiles_y + 1) + 64;
}

int32_t os_find_moves(const uint8_t *frame, int64_t frame_stride, const uint8_t *ref, int64_t ref_stride,
                      int32_t width, int32_t height, int32_t tile, const uint8_t *dirty, int64_t dirty_len,
                      int32_t *moves, int32_t moves_cap, uint8_t *scratch, int64_t scratch_len) {
    if (frame == NULL || ref == NULL || dirty == NULL || (moves == NULL && moves_cap > 0) || moves_cap < 0 ||
        scratch == NULL || scratch_len < os_motion_scratch_size(width, height, tile) ||
        tile < SEG || tile > 4096 || !os_geometry_ok(frame_stride, width, height) ||
        !os_geometry_ok(ref_stride, width, height))
        return OS_ERR_ARG;
    const int32_t tiles_x = (width + tile - 1) / tile, tiles_y = (height + tile - 1) / tile;
    if (dirty_len < (int64_t)tiles_x * tiles_y) return OS_ERR_ARG;
    if (width < SEG) return 0;

    int64_t dirty_px = 0;
    for (int64_t i = 0; i < (int64_t)tiles_x * tiles_y; i++) dirty_px += dirty[i] ? (int64_t)tile * tile : 0;
    if (dirty_px == 0) return 0;
    /* The search is bounded by memory latency, so its size is fixed whatever the dirty area: about
     * TABLE_INSERTS reference segments (every step-th row) and PROBES probes (every probe_step-th row).
     * step is odd and probe_step a power of two, so for any vertical offset some probed row meets a
     * sampled row (every step * probe_step rows), and the table stays in L2. */
    int32_t probe_step = 1;
    while (probe_step < 16 && dirty_px / (2 * SEG) / probe_step > PROBES) probe_step *= 2;
    int32_t step = (int32_t)(dirty_px / TABLE_INSERTS) | 1;
    if (step < 3) step = 3;
    int64_t inserts = 0; /* exactly what 1a inserts at most, so a small change gets a small table */
    for (int32_t ty = 0; ty < tiles_y; ty++) {
        const int32_t y0 = ty * tile, y1 = y0 + tile < height ? y0 + tile : height;
        const int64_t rows = (y1 - 1) / step - (y0 + step - 1) / step + 1;
        int64_t columns = 0;
        for (int32_t tx = 0; tx < tiles_x; tx++)
            if (dirty[(int64_t)ty * tiles_x + tx]) columns += (tx + 1) * tile < width ? tile : width - tx * tile;
        inserts += rows > 0 ? rows * columns : 0;
    }
    const int64_t slots = table_slots(inserts);
    /* Scratch comes from the caller, kept across frames: fresh pages every frame cost more than the
     * search itself (a page fault per 4 KiB). Only the part used is cleared. (Not clearing it, with an
     * epoch in each key to tell old entries apart, was tried: 0.1-0.3 ms slower a search, as the clear
     * also brings the table into the cache that the inserts then hit.) */
    entry_t *table = (entry_t *)scratch;
    vote_t *votes = (vote_t *)(scratch + slots * (int64_t)sizeof(entry_t));
    move_t *found = (move_t *)((uint8_t *)votes + VOTE_SLOTS * sizeof(vote_t));
    uint8_t *claim = (uint8_t *)(found + MAX_RECTS), *alive = claim + (int64_t)tiles_x * tiles_y;
    if (alive + tiles_x > scratch + scratch_len) return OS_ERR_CAPACITY;
    memset(table, 0, (size_t)slots * sizeof *table);
    memset(votes, 0, VOTE_SLOTS * sizeof *votes);
    int32_t result = 0;
    const uint64_t mask = (uint64_t)slots - 1;
    uint64_t top = 1, uniform_hash = 0; /* HASH_MUL^(SEG-1); the sum of HASH_MUL^i for i < SEG */
    for (int i = 0; i < SEG - 1; i++) top *= HASH_MUL;
    for (int i = 0; i < SEG; i++) uniform_hash = uniform_hash * HASH_MUL + 1;

    /* 1a. Reference: rolling hash at every x of every step-th row, over runs of dirty tiles. */
    for (int32_t ty = 0; ty < tiles_y; ty++) {
        const int32_t y1 = (ty + 1) * tile < height ? (ty + 1) * tile : height;
        for (int32_t tx = 0; tx < tiles_x; tx++) {
            if (!dirty[(int64_t)ty * tiles_x + tx]) continue;
            int32_t tx1 = tx;
            while (tx1 < tiles_x && dirty[(int64_t)ty * tiles_x + tx1]) tx1++;
            const int32_t x0 = tx * tile, x1 = tx1 * tile < width ? tx1 * tile : width;
            tx = tx1;
            if (x1 - x0 < SEG) continue;
            for (int32_t y = ((ty * tile + step - 1) / step) * step; y < y1; y += step) {
                const uint8_t *row = ref + (int64_t)y * ref_stride;
                uint64_t h = 0;
                for (int32_t x = x0; x < x0 + SEG; x++) h = h * HASH_MUL + px_at(row, x);
                for (int32_t x = x0;; x++) {
                    /* a uniform window of colour c hashes to c * uniform_hash: background says nothing */
                    if (h != px_at(row, x) * uniform_hash) {
                        const uint32_t key = (uint32_t)(h >> 32) | 1u;
                        for (uint64_t slot = (h * HASH_MUL) >> 24 & mask;; slot = (slot + 1) & mask) {
                            if (table[slot].key == 0) {
                                table[slot].key = key;
                                table[slot].where = ((uint32_t)x << 16) | (uint32_t)y;
                                break;
                            }
                            if (table[slot].key == key) {
                                table[slot].where = DUP;
                                break;
                            }
                        }
                    }
                    if (x + SEG >= x1) break;
                    h = (h - px_at(row, x) * top) * HASH_MUL + px_at(row, x + SEG);
                }
            }
        }
    }

    /* 1b. New frame: SEG-aligned segments of every probe_step-th row of the dirty tiles vote. */
    for (int32_t ty = 0; ty < tiles_y; ty++) {
        const int32_t y0 = ty * tile, y1 = y0 + tile < height ? y0 + tile : height;
        for (int32_t tx = 0; tx < tiles_x; tx++) {
            if (!dirty[(int64_t)ty * tiles_x + tx]) continue;
            const int32_t x0 = tx * tile, x1 = x0 + tile < width ? x0 + tile : width;
            for (int32_t y = ((y0 + probe_step - 1) / probe_step) * probe_step; y < y1; y += probe_step) {
                const uint8_t *row = frame + (int64_t)y * frame_stride;
                /* Every other SEG-aligned segment: the reference side is hashed at every x, so this
                 * still meets every horizontal offset, for half the probes. */
                for (int32_t x = x0; x + SEG <= x1; x += 2 * SEG) {
                    /* A segment unchanged in place is static content (a wallpaper gradient repeats
                     * row after row and would vote for offsets of a pixel or two): it says nothing. */
                    if (memcmp(row + (int64_t)x * 4, ref + (int64_t)y * ref_stride + (int64_t)x * 4, SEG * 4) == 0)
                        continue;
                    uint64_t h = 0;
                    for (int32_t i = 0; i < SEG; i++) h = h * HASH_MUL + px_at(row, x + i);
                    if (h == px_at(row, x) * uniform_hash) continue; /* uniform */
                    const uint32_t key = (uint32_t)(h >> 32) | 1u;
                    for (uint64_t slot = (h * HASH_MUL) >> 24 & mask; table[slot].key != 0; slot = (slot + 1) & mask) {
                        if (table[slot].key != key) continue;
                        if (table[slot].where != DUP) {
                            const int32_t dx = x - (int32_t)(table[slot].where >> 16);
                            const int32_t dy = y - (int32_t)(table[slot].where & 0xFFFF);
                            if (dx != 0 || dy != 0) vote(votes, dx, dy);
                        }
                        break;
                    }
                }
            }
        }
    }

    /* 2. Best offsets first: claim matching tiles, merge them into rectangles, grow them. */
    memset(claim, 0, (size_t)tiles_x * tiles_y);
    int32_t bx0 = tiles_x, by0 = tiles_y, bx1 = 0, by1 = 0;
    for (int32_t ty = 0; ty < tiles_y; ty++)
        for (int32_t tx = 0; tx < tiles_x; tx++)
            if (dirty[(int64_t)ty * tiles_x + tx]) {
                if (tx < bx0) bx0 = tx;
                if (ty < by0) by0 = ty;
                if (tx + 1 > bx1) bx1 = tx + 1;
                if (ty + 1 > by1) by1 = ty + 1;
            }
    int32_t n_found = 0;
    for (int c = 0; c < MAX_CANDIDATES; c++) {
        int best = -1;
        for (int i = 0; i < VOTE_SLOTS; i++)
            if (votes[i].key && votes[i].votes >= MIN_VOTES && (best < 0 || votes[i].votes > votes[best].votes))
                best = i;
        if (best < 0) break;
        const uint32_t key = votes[best].key - 1u;
#ifdef OS_MOTION_DEBUG
        fprintf(stderr, "candidate %d: (%d, %d) votes %u\n", c, (int32_t)(key >> 16) - 32768,
                (int32_t)(key & 0xFFFF) - 32768, votes[best].votes);
#endif
        votes[best].votes = 0;
        const int32_t ox = (int32_t)(key >> 16) - 32768, oy = (int32_t)(key & 0xFFFF) - 32768;
        const uint8_t mark = (uint8_t)(c + 1);
        /* Clean tiles inside the dirty box are claimed too when they match at the offset (the blank end
         * of a scrolled line), so a scrolled region stays one rectangle. */
        for (int32_t ty = by0; ty < by1; ty++)
            claim_row(frame, frame_stride, ref, ref_stride, width, height, tile, ty, bx0, bx1, ox, oy, mark,
                      claim + (int64_t)ty * tiles_x, alive);
        /* Runs of claimed tiles in a tile row; a run continues the rectangle above it when it spans the
         * same columns, so a scrolled region becomes one rectangle. */
        const int32_t first = n_found;
        for (int32_t ty = 0; ty < tiles_y; ty++)
            for (int32_t tx = 0; tx < tiles_x; tx++) {
                if (claim[(int64_t)ty * tiles_x + tx] != mark) continue;
                int32_t tx1 = tx;
                while (tx1 < tiles_x && claim[(int64_t)ty * tiles_x + tx1] == mark) tx1++;
                const int32_t x = tx * tile, y = ty * tile;
                const int32_t w = (tx1 * tile < width ? tx1 * tile : width) - x;
                const int32_t h = (y + tile < height ? y + tile : height) - y;
                tx = tx1 - 1;
                int merged = 0;
                for (int32_t k = first; k < n_found && !merged; k++)
                    if (found[k].x == x && found[k].w == w && found[k].y + found[k].h == y) {
                        found[k].h += h;
                        merged = 1;
                    }
                if (!merged && n_found < MAX_RECTS) found[n_found++] = (move_t){x, y, w, h, ox, oy};
            }
        for (int32_t k = first; k < n_found; k++) {
            trim_clean(dirty, tiles_x, tile, width, height, &found[k]);
            if (found[k].w > 0 && found[k].h > 0)
                grow(frame, frame_stride, ref, ref_stride, width, height, tile, &found[k]);
        }
        /* drop what trimming emptied */
        int32_t kept = first;
        for (int32_t k = first; k < n_found; k++)
            if (found[k].w > 0 && found[k].h > 0) found[kept++] = found[k];
        n_found = separate(found, first, kept);
        qsort(found + first, (size_t)(n_found - first), sizeof *found, move_order);
    }

    /* 3. Keep the moves whose source no earlier move overwrites. */
    for (int32_t k = 0; k < n_found && result < moves_cap; k++) {
        const move_t *m = &found[k];
        int clash = 0;
        for (int32_t j = 0; j < result && !clash; j++) {
            const move_t prev = {moves[6 * j + 2], moves[6 * j + 3], moves[6 * j + 4], moves[6 * j + 5], 0, 0};
            clash = overlaps(&prev, m->x - m->ox, m->y - m->oy, m->w, m->h);
        }
        if (clash) continue;
        int32_t *out = moves + 6 * result++;
        out[0] = m->x - m->ox;
        out[1] = m->y - m->oy;
        out[2] = m->x;
        out[3] = m->y;
        out[4] = m->w;
        out[5] = m->h;
    }

    return result;
}
