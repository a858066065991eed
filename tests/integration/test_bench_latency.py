"""``opensupport bench latency`` runs end to end (a few samples, short phases): every figure is measured."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

pytestmark = pytest.mark.xvfb


def test_bench_latency_measures_every_figure() -> None:
    from opensupport.benchmarks.latency import run

    result = run(
        change_samples=5,
        key_samples=3,
        scroll_seconds=1.0,
        idle_seconds=1.0,
        limited_samples=3,
        # long enough for the host's first link measurement to reach the viewer (1 s was not, once: NaN)
        limited_warmup=4.0,
        log=lambda _: None,
    )
    # Every sample arrived (a change that never reached the viewer's framebuffer would be missing).
    assert result.change_samples == 5 and result.key_samples == 3
    for value in (result.change_p50_ms, result.change_p99_ms, result.key_p50_ms):
        assert math.isfinite(value) and value > 0
    assert result.change_p50_ms <= result.change_p99_ms
    assert result.scroll_fps > 0 and result.browser_paint_fps > 0  # Chromium scrolled and frames arrived
    assert 0 <= result.idle_cpu_pct < 100
    # The 10 Mbit/s run with the video: every change arrived, the video's frames reached the viewer, the
    # host reported its quality and a measured throughput.
    assert result.limited_change_samples == 3 and result.limited_link_mbit == 10.0
    assert math.isfinite(result.limited_change_p50_ms) and result.limited_change_p50_ms > 0
    assert result.limited_video_fps > 0
    assert result.limited_quality in {"lossless", "high", "balanced", "low"}
    assert math.isfinite(result.limited_throughput_mbit) and result.limited_throughput_mbit > 0


def test_bench_latency_help_names_the_json_keys() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "opensupport", "bench", "latency", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "--json" in out.stdout


def test_json_keys_are_the_issues() -> None:
    from dataclasses import fields

    from opensupport.benchmarks.latency import LatencyResult

    names = {f.name for f in fields(LatencyResult)}
    assert {"change_p50_ms", "change_p99_ms", "key_p50_ms", "scroll_fps", "idle_cpu_pct"} <= names
    json.dumps({name: 0.0 for name in names})
