int32_t os_bgra_to_i420(const uint8_t *frame, int64_t frame_stride, int32_t width, int32_t height, int32_t x,
                        int32_t y, int32_t w, int32_t h, uint8_t *out, int64_t out_len);
int32_t os_i420_to_bgra(const uint8_t *py, int64_t y_stride, int64_t y_len, const uint8_t *pu, int64_t u_stride,
                        int64_t u_len, const uint8_t *pv, int64_t v_stride, int64_t v_len, int32_t w, int32_t h,
                        uint8_t *fb, int64_t stride, int32_t width, int32_t height, int32_t x, int32_t y,
                        uint64_t *hash);
