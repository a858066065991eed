#include "kernel.h"

int os_kernel_abi(void) { return OS_KERNEL_ABI; }
