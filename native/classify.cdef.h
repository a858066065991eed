#define OS_TILE_STILL 0
#define OS_TILE_BUSY 1
#define OS_TILE_PICTURE 2
#define OS_OP_VIDEO 8
#define OS_VIDEO_NEW_STREAM 1
#define OS_VIDEO_OP_BYTES 22
int32_t os_classify_tiles(const uint8_t *frame, int64_t frame_stride, int32_t width, int32_t height, int32_t tile,
                          const uint8_t *changed, uint8_t *history, uint8_t *classes, int64_t n_tiles,
                          int32_t min_changes, int32_t min_colours, int32_t max_flat256);
int32_t os_change_box(const uint8_t *frame, int64_t frame_stride, const uint8_t *ref, int64_t ref_stride,
                      int32_t width, int32_t height, int32_t x, int32_t y, int32_t w, int32_t h, int32_t *box);
int32_t os_apply_update_v3(uint8_t *fb, int64_t stride, int32_t width, int32_t height, const uint8_t *payload,
                           int64_t payload_len, int32_t apply, int32_t *rects, int32_t rects_cap, uint8_t *cache,
                           int32_t slots, int32_t *cache_state, int64_t *video, const uint8_t *picture,
                           int64_t picture_stride);
