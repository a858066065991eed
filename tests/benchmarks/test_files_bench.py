"""Smoke test of ``opensupport bench files`` through the relay: a tiny file, real processes and sockets.

It checks what the benchmark reports (bytes verified, input events measured), never the timing.
"""

import glob
import json

import pytest
from opensupport.benchmarks.files import main


def test_bench_files_through_the_relay_moves_the_file_and_measures_input(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = set(glob.glob("/tmp/bench-files-*"))
    assert main(["--size", "2", "--timeout", "60", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["size_mib"] == 2 and out["sha256_ok"] is True and out["file_mb_s"] > 0
    # The 2 s idle phase at 20 ms gives ~100 events; every one must have arrived.
    assert out["input_lost"] == 0
    assert out["idle_input_p99_ms"] >= out["idle_input_p50_ms"] >= 0
    # A 2 MiB transfer may end before the next input tick: then no figure rather than a made-up one.
    if out["input_events"]:
        assert out["input_p99_ms"] >= out["input_p50_ms"] >= 0
    else:
        assert out["input_p50_ms"] is None and out["input_p99_ms"] is None
    assert set(out["cpu_ms_per_mib"]) == {"relay", "host", "viewer"}
    assert all(ms is not None and ms >= 0 for ms in out["cpu_ms_per_mib"].values())
    assert set(glob.glob("/tmp/bench-files-*")) == before, "the temporary folder was left behind"
