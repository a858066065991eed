/* OpenSupport native kernel: the one header the cffi module includes. */
#ifndef OPENSUPPORT_KERNEL_H
#define OPENSUPPORT_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#define OS_KERNEL_ABI 1

int os_kernel_abi(void);

#endif
