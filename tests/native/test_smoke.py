from opensupport.native import ffi, lib


def test_kernel_loads_and_reports_its_abi() -> None:
    assert lib.os_kernel_abi() == lib.OS_KERNEL_ABI == 1
    assert ffi.sizeof("uint32_t") == 4
