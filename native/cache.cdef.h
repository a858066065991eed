#define OS_ERR_CACHE -8
#define OS_CACHE_TILE 64
#define OS_CACHE_TILE_BYTES 16384
#define OS_CACHE_SLOTS 2048
#define OS_OP_FETCH 6
#define OS_OP_STORE 7
int32_t os_hash_tiles(const uint8_t *frame, int64_t frame_stride, int32_t width, int32_t height, const uint8_t *only,
                      uint64_t *hashes, int64_t n_tiles);
int32_t os_cache_tiles(const uint8_t *frame, int64_t frame_stride, int32_t width, int32_t height, uint8_t *cache,
                       int32_t slots, const int32_t *jobs, int32_t n_jobs, int32_t store, uint8_t *equal, uint8_t *mirror,
                       int64_t mirror_stride);
int32_t os_apply_update_cached(uint8_t *fb, int64_t stride, int32_t width, int32_t height, const uint8_t *payload,
                               int64_t payload_len, int32_t apply, int32_t *rects, int32_t rects_cap,
                               uint8_t *cache, int32_t slots, int32_t *cache_state);
