"""The raw native kernel: ``ffi`` and ``lib`` of the cffi module built from the C beside this file.

Only ``opensupport.codec`` uses these, through checked wrappers. ``OPENSUPPORT_NATIVE_LIB`` may name
another build of the same module (the sanitizer build that ``make test`` runs the codec tests against).
"""

import importlib.machinery
import importlib.util
import os
import sys
from typing import Any

_MODULE = "opensupport.native._kernel"


def _load() -> Any:
    path = os.environ.get("OPENSUPPORT_NATIVE_LIB")
    if not path:
        from opensupport.native import _kernel

        return _kernel
    spec = importlib.util.spec_from_file_location(
        _MODULE, path, loader=importlib.machinery.ExtensionFileLoader(_MODULE, path)
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the native kernel from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[_MODULE] = module
    spec.loader.exec_module(module)
    return module


_kernel = _load()
ffi: Any = _kernel.ffi
lib: Any = _kernel.lib

__all__ = ["ffi", "lib"]
