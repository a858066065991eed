int32_t os_pack_tiles(const uint8_t *frame, int64_t frame_stride, const uint8_t *ref, int64_t ref_stride,
                      int32_t width, int32_t height, const int32_t *rects, int32_t n_rects, int32_t split,
                      int32_t max_palette, uint8_t *ops, int64_t ops_cap, int64_t *ops_len, uint8_t *data,
                      int64_t data_cap, int64_t *data_len);
int32_t os_apply_update(uint8_t *fb, int64_t stride, int32_t width, int32_t height, const uint8_t *payload,
                        int64_t payload_len, int32_t apply, int32_t *rects, int32_t rects_cap);
int32_t os_copy_rect(uint8_t *fb, int64_t stride, int32_t width, int32_t height, int32_t sx, int32_t sy,
                     int32_t dx, int32_t dy, int32_t w, int32_t h);
