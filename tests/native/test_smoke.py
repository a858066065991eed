from opensupport.native import ffi, lib


def test_kernel_loads_and_reports_its_abi() -> None:
    assert lib.os_kernel_abi() == lib.OS_KERNEL_ABI == 2
    assert ffi.sizeof("uint32_t") == 4
    assert lib.OS_MAX_OP_BYTES == 10 + 3 * lib.OS_MAX_PALETTE
