"""cffi build script for the native kernel (API mode).

It holds only the cdef and the set_source; the declarations live in ``*.cdef.h`` beside the C they
describe. ``OPENSUPPORT_SANITIZE=1`` builds with AddressSanitizer and UndefinedBehaviorSanitizer
(``make test`` runs the codec tests once more against that build).
"""

import glob
import os

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))

ffibuilder = FFI()
for cdef in sorted(glob.glob(os.path.join(HERE, "*.cdef.h"))):
    with open(cdef, encoding="utf-8") as f:
        ffibuilder.cdef(f.read())

_sources = sorted(glob.glob(os.path.join(HERE, "*.c")))
_cflags = ["-std=c99", "-O3", "-Wall", "-Wextra", "-Wno-unused-parameter"]
_ldflags: list[str] = []
if os.environ.get("OPENSUPPORT_SANITIZE") == "1":
    _cflags = [
        "-std=c99",
        "-O1",
        "-g",
        "-fno-omit-frame-pointer",
        "-fsanitize=address,undefined",
        "-fno-sanitize-recover=undefined",
        "-Wall",
        "-Wextra",
        "-Wno-unused-parameter",
    ]
    _ldflags = ["-fsanitize=address,undefined"]

ffibuilder.set_source(
    "opensupport.native._kernel",
    '#include "kernel.h"\n',
    sources=[os.path.relpath(s) if os.path.isabs(s) and s.startswith(os.getcwd()) else s for s in _sources],
    include_dirs=[HERE],
    extra_compile_args=_cflags,
    extra_link_args=_ldflags,
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
