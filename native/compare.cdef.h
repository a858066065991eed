int32_t os_compare_tiles(const uint8_t *frame, int64_t frame_stride, const uint8_t *ref, int64_t ref_stride,
                         int32_t width, int32_t height, int32_t tile, const uint8_t *only, uint8_t *dirty,
                         int64_t dirty_len);
int32_t os_blit_rects(uint8_t *dst, int64_t dst_stride, const uint8_t *src, int64_t src_stride, int32_t width,
                      int32_t height, const int32_t *rects, int32_t n_rects);
