#define OS_KERNEL_ABI 2
#define OS_MAX_DIMENSION 65535
#define OS_ERR_ARG -1
#define OS_ERR_TRUNCATED -2
#define OS_ERR_OPCODE -3
#define OS_ERR_BOUNDS -4
#define OS_ERR_LENGTH -5
#define OS_ERR_NOMEM -6
#define OS_ERR_CAPACITY -7
#define OS_OP_COPY 1
#define OS_OP_SOLID 2
#define OS_OP_RAW 3
#define OS_OP_DELTA 4
#define OS_OP_PALETTE 5
#define OS_MAX_PALETTE 255
#define OS_MAX_OP_BYTES 775
int os_kernel_abi(void);
