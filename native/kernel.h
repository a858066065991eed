/* OpenSupport native kernel: the one header the cffi module includes.
 *
 * Frames are BGRA, 4 bytes a pixel, rows `stride` bytes apart. Every function checks the geometry it is
 * given and every index it reads from an update; a negative return is an OS_ERR_* code. No Python API.
 */
#ifndef OPENSUPPORT_KERNEL_H
#define OPENSUPPORT_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#define OS_KERNEL_ABI 2

/* The update format stores coordinates as u16: this bounds every frame. */
#define OS_MAX_DIMENSION 65535

#define OS_ERR_ARG (-1)       /* a caller's argument is inconsistent (a wrapper bug, not bad data) */
#define OS_ERR_TRUNCATED (-2) /* the update ends inside an op or its pixel data */
#define OS_ERR_OPCODE (-3)    /* an unknown op or a malformed field (zero size, bad palette) */
#define OS_ERR_BOUNDS (-4)    /* a rectangle reaches outside the frame */
#define OS_ERR_LENGTH (-5)    /* bytes left over after the last op, or the sections disagree */
#define OS_ERR_NOMEM (-6)     /* scratch memory could not be allocated */
#define OS_ERR_CAPACITY (-7)  /* an output buffer is too small */
#define OS_ERR_CACHE (-8)     /* a FETCH names a cache slot that holds no tile */

/* Update ops (codec/FORMAT.md). */
#define OS_OP_COPY 1
#define OS_OP_SOLID 2
#define OS_OP_RAW 3
#define OS_OP_DELTA 4
#define OS_OP_PALETTE 5
#define OS_OP_FETCH 6 /* content cache: a slot back into the frame */
#define OS_OP_STORE 7 /* content cache: a frame tile into the next slot */
#define OS_OP_VIDEO 8 /* version 3: an H.264 access unit decoded into a rectangle (lossy) */
#define OS_VIDEO_NEW_STREAM 1 /* VIDEO flag: the access unit starts a new H.264 stream */
#define OS_VIDEO_OP_BYTES 22  /* code, u16 x, y, w, h, u8 flags, u32 access unit size, u64 picture hash */

/* Tile classes of os_classify_tiles (classify.c). */
#define OS_TILE_STILL 0   /* not changing often */
#define OS_TILE_BUSY 1    /* changing in most recent frames, looks like text or UI */
#define OS_TILE_PICTURE 2 /* changing in most recent frames, looks like a picture: a lossy candidate */

/* The content cache (cache.c, codec/FORMAT.md): a ring of slots of one square BGRA tile each. */
#define OS_CACHE_TILE 64
#define OS_CACHE_TILE_BYTES (OS_CACHE_TILE * OS_CACHE_TILE * 4)
#define OS_CACHE_SLOTS 2048

/* Largest palette a PALETTE op may carry, and the most bytes one packed op header can take. */
#define OS_MAX_PALETTE 255
#define OS_MAX_OP_BYTES (10 + 3 * OS_MAX_PALETTE)

int os_kernel_abi(void);

/* compare.c */
int32_t os_compare_tiles(const uint8_t *frame, int64_t frame_stride, const uint8_t *ref, int64_t ref_stride,
                         int32_t width, int32_t height, int32_t tile, const uint8_t *only, uint8_t *dirty,
                         int64_t dirty_len);
int32_t os_blit_rects(uint8_t *dst, int64_t dst_stride, const uint8_t *src, int64_t src_stride, int32_t width,
                      int32_t height, const int32_t *rects, int32_t n_rects);

/* pack.c */
int32_t os_pack_tiles(const uint8_t *frame, int64_t frame_stride, const uint8_t *ref, int64_t ref_stride,
                      int32_t width, int32_t height, const int32_t *rects, int32_t n_rects, int32_t split,
                      int32_t max_palette, uint8_t *ops, int64_t ops_cap, int64_t *ops_len, uint8_t *data,
                      int64_t data_cap, int64_t *data_len);
int32_t os_apply_update(uint8_t *fb, int64_t stride, int32_t width, int32_t height, const uint8_t *payload,
                        int64_t payload_len, int32_t apply, int32_t *rects, int32_t rects_cap);
/* As os_apply_update, with the content cache: `cache` holds `slots` tiles, cache_state[0] how many slots
 * are filled and cache_state[1] the next slot a STORE writes (both updated only when applying). With
 * slots == 0 (and cache NULL) FETCH and STORE are unknown ops, as in a version 1 update. */
int32_t os_apply_update_cached(uint8_t *fb, int64_t stride, int32_t width, int32_t height, const uint8_t *payload,
                               int64_t payload_len, int32_t apply, int32_t *rects, int32_t rects_cap,
                               uint8_t *cache, int32_t slots, int32_t *cache_state);
/* As os_apply_update_cached, for version 3: with `video` (8 int64: x, y, w, h, flags, offset of the
 * access unit in the payload, its length, offset of the picture hash; x = -1 when the update has no
 * VIDEO op) a VIDEO op is allowed,
 * at most one. Applying it copies `picture` (the access unit decoded and converted by the caller, w x h
 * BGRA, rows `picture_stride` bytes apart) into the rectangle. With video NULL, VIDEO is an unknown op. */
int32_t os_apply_update_v3(uint8_t *fb, int64_t stride, int32_t width, int32_t height, const uint8_t *payload,
                           int64_t payload_len, int32_t apply, int32_t *rects, int32_t rects_cap, uint8_t *cache,
                           int32_t slots, int32_t *cache_state, int64_t *video, const uint8_t *picture,
                           int64_t picture_stride);
int32_t os_copy_rect(uint8_t *fb, int64_t stride, int32_t width, int32_t height, int32_t sx, int32_t sy,
                     int32_t dx, int32_t dy, int32_t w, int32_t h);

/* cache.c: hashes of the whole OS_CACHE_TILE tiles (0 for a partial, unselected or one-colour tile), and
 * for each (x, y, slot) job: compare the frame tile with the slot (store = 0, result in equal[i]; with
 * `mirror`, a frame of the same size, an equal tile is also copied there) or copy it into the slot
 * (store = 1). */
int32_t os_hash_tiles(const uint8_t *frame, int64_t frame_stride, int32_t width, int32_t height, const uint8_t *only,
                      uint64_t *hashes, int64_t n_tiles);
int32_t os_cache_tiles(const uint8_t *frame, int64_t frame_stride, int32_t width, int32_t height, uint8_t *cache,
                       int32_t slots, const int32_t *jobs, int32_t n_jobs, int32_t store, uint8_t *equal, uint8_t *mirror,
                       int64_t mirror_stride);

/* motion.c */
int32_t os_find_moves(const uint8_t *frame, int64_t frame_stride, const uint8_t *ref, int64_t ref_stride,
                      int32_t width, int32_t height, int32_t tile, const uint8_t *dirty, int64_t dirty_len,
                      int32_t *moves, int32_t moves_cap, uint8_t *scratch, int64_t scratch_len);
int64_t os_motion_scratch_size(int32_t width, int32_t height, int32_t tile);

/* classify.c: each tile's history (one bit a frame: did its source pixels change) is shifted and the
 * tile classified OS_TILE_*; returns the number of OS_TILE_PICTURE tiles. os_change_box: the tight box of
 * the pixels whose B, G or R differ inside (x, y, w, h), 1 when there is one, 0 when none differ. */
int32_t os_classify_tiles(const uint8_t *frame, int64_t frame_stride, int32_t width, int32_t height, int32_t tile,
                          const uint8_t *changed, uint8_t *history, uint8_t *classes, int64_t n_tiles,
                          int32_t min_changes, int32_t min_colours, int32_t max_flat256);
int32_t os_change_box(const uint8_t *frame, int64_t frame_stride, const uint8_t *ref, int64_t ref_stride,
                      int32_t width, int32_t height, int32_t x, int32_t y, int32_t w, int32_t h, int32_t *box);

/* yuv.c: the (even) w x h rectangle at (x, y) of a BGRA frame to I420 planes Y, U, V one after the other
 * in `out`; and I420 planes (each with its stride and length) to BGRA at (x, y) of a frame, with the
 * picture hash of the VIDEO op (FORMAT.md) of the planes' bytes. */
int32_t os_bgra_to_i420(const uint8_t *frame, int64_t frame_stride, int32_t width, int32_t height, int32_t x,
                        int32_t y, int32_t w, int32_t h, uint8_t *out, int64_t out_len);
int32_t os_i420_to_bgra(const uint8_t *py, int64_t y_stride, int64_t y_len, const uint8_t *pu, int64_t u_stride,
                        int64_t u_len, const uint8_t *pv, int64_t v_stride, int64_t v_len, int32_t w, int32_t h,
                        uint8_t *fb, int64_t stride, int32_t width, int32_t height, int32_t x, int32_t y,
                        uint64_t *hash);

/* Internal helpers shared by the C files (not in the cdef). */
int os_geometry_ok(int64_t stride, int32_t width, int32_t height);

#endif
