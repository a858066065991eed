#include "kernel.h"

int os_kernel_abi(void) { return OS_KERNEL_ABI; }

int os_geometry_ok(int64_t stride, int32_t width, int32_t height) {
    return width >= 1 && height >= 1 && width <= OS_MAX_DIMENSION && height <= OS_MAX_DIMENSION &&
           stride >= (int64_t)width * 4;
}
