int32_t os_find_moves(const uint8_t *frame, int64_t frame_stride, const uint8_t *ref, int64_t ref_stride,
                      int32_t width, int32_t height, int32_t tile, const uint8_t *dirty, int64_t dirty_len,
                      int32_t *moves, int32_t moves_cap, uint8_t *scratch, int64_t scratch_len);
int64_t os_motion_scratch_size(int32_t width, int32_t height, int32_t tile);
