#define OS_KERNEL_ABI 1
int os_kernel_abi(void);
