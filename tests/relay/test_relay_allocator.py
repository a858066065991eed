"""The allocator tuning shared by the link and the relay: large record buffers are reused, not mmap()ed
and unmapped each time (a page fault per 4 KiB touched)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import ctypes, resource, sys
from opensupport.link._driver import tune_allocator
if sys.argv[1] == "tuned":
    tuned = tune_allocator()
else:
    # glibc's starting threshold, held fixed (glibc raises it by itself after some frees, and trims the
    # heap again, so without this the untuned count varies from run to run between ~2 000 and ~8 000)
    tuned = not ctypes.CDLL(None).mallopt(-3, 128 * 1024)
keep = [b"w" * 262144 for _ in range(4)]  # warm up: the heap grows once
del keep
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for i in range(100):
    # a record's life: file data, message, plaintext, ciphertext (256 KiB each, written in full), freed
    stages = [bytes([(i + k) & 255]) * 262144 for k in range(4)]
    del stages
print(tuned, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> tuple[str, int]:
    env = {"PATH": "/usr/bin:/bin"}  # no MALLOC_* from the caller
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True, env=env
    ).stdout.split()
    return out[0], int(out[1])


def test_tuned_allocator_reuses_record_sized_buffers() -> None:
    tuned, tuned_faults = _faults("tuned")
    plain, plain_faults = _faults("plain")
    assert tuned == "True" and plain == "False"
    # 400 blocks of 64 pages: each a fresh mmap() at the 128 KiB threshold (about 25 600 faults); tuned,
    # the same heap memory is reused.
    assert plain_faults > 400 * 32
    assert tuned_faults < plain_faults // 20
