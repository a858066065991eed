"""``opensupport bench codec``: the tile codec against x264 and VP9 on a recorded corpus, in one run.

Usage::

    opensupport bench record --out corpus          # once: record the corpus (benchmarks/record.py)
    opensupport bench codec --corpus corpus [--json] [--scenarios NAME ...] [--frames N] [--cpu N]

For every scenario of the corpus, on the same frames, one codec after the other, the process pinned to one
core (``os.sched_setaffinity``; ``--cpu`` picks it, default the last allowed core):

``ours``
    ``opensupport.codec.Encoder(width, height, threads=1)`` and ``Decoder``: encode and decode time per
    frame, bytes per frame, and losslessness: after every decode the framebuffer must equal the frame in
    B, G and R (checked on every frame, outside the timed part).
``x264``
    PyAV, libx264, preset ultrafast, tune zerolatency, crf 23, one thread. Encode time includes the
    BGRA -> yuv420p conversion (swscale), decode time the h264 decode (one thread) and yuv420p -> BGRA.
``vp9``
    PyAV, libvpx-vp9, deadline realtime, cpu-used 8, one thread, no lag (``lag-in-frames 0``, so each frame
    comes out at once, as a real-time sender needs), constant quality crf 32 (``b 0``). Conversions
    timed as for x264; decoded with FFmpeg's vp9 decoder, one thread.
``memcmp``
    The floor: libc ``memcmp`` of a frame with an identical copy (the cheapest possible "nothing
    changed"), against our encode of that unchanged copy right after encoding the frame itself.

The first frame of a scenario is the keyframe; it is reported on its own (``keyframe_kib``) and left out of
every per-frame statistic. PSNR (over B, G, R, averaged over frames) is reported for the lossy peers.

Quality (``--quality``, default ``auto``): ``video`` runs our encoder at ``Quality.BALANCED`` (lossy
regions allowed, issue 8) with the lossy targets; every other scenario at ``Quality.LOSSLESS`` with the
lossless targets. Another value runs every scenario at that quality (``--quality balanced`` shows whether
lossy regions ever trigger on the lossless scenarios: ``lossy_updates`` and ``lossless``).

Lossy targets (``video``; the region is the box of every pixel that changes in the scenario, the video's
window): ``text_exact`` every frame byte-exact outside the region; ``video_size`` our KiB/frame at most
x264's; ``video_psnr`` our PSNR inside the region at least x264's (frames 1..N-1); ``video_encode`` our
encode median at most x264's; ``unchanged`` as below (after the lossy region has been refined).

Lossless targets (every other scenario):
``encode`` our encode median at most 1/3 of x264's; ``size`` our KiB/frame at most x264's; ``lossless``
every frame exact; ``unchanged`` our encode of an unchanged frame at most 1.5x the
memcmp floor; ``decode`` our decode median at most 1.5 ms; and from the pixels of particular scenarios:
``keystroke`` (terminal-typing: mean KiB of the frames where one visible character was typed) at most
0.4 KiB, ``line_scroll`` (pager-scroll: mean KiB of the frames that scrolled one to three lines) at most
8 KiB, ``drag`` (window-drag: mean KiB per frame) at most 1 KiB.

``--json`` prints one object instead of the table::

    {"corpus": str, "cpu": int | null, "pinned": bool, "load_average": [1, 5, 15 min],
     "versions": {"opensupport": str, "av": str},
     "scenarios": {NAME: {
        "frames": int, "width": int, "height": int, "fps": float, "description": str, "target": bool,
        "region": [x, y, w, h] | null,      # the video's box (lossy scenarios only)
        "ours": {"encode_ms": STATS, "decode_ms": STATS, "kib_per_frame": float, "keyframe_kib": float,
                 "keyframe_encode_ms": float, "lossless": bool, "lossless_frames": int, "unchanged_exact": bool,
                 "unchanged_encode_ms": float, "unchanged_bytes": int, "quality": str, "lossy_updates": int,
                 "exact_outside_frames": int, "region_psnr_db": float},   # the last two with a region
        "x264": PEER, "vp9": PEER,
        "memcmp_ms": float,
        "ratios": {"encode_vs_x264": float, "encode_vs_vp9": float, "kib_vs_x264": float,
                   "kib_vs_vp9": float, "decode_vs_x264": float, "unchanged_vs_memcmp": float},
        "focus": {...},      # keystroke_kib/_max/_frames, line_scroll_kib/_frames or drag_kib, if any
        "targets": {NAME: {"value": float, "limit": float, "pass": bool, "at_least": bool}}}},
     "targets_passed": int, "targets_failed": int, "all_pass": bool}

    STATS = {"median": float, "p95": float, "mean": float, "wall_median": float}   (ms, frames 1..N-1)
    PEER = {"encode_ms": STATS, "decode_ms": STATS, "kib_per_frame": float, "keyframe_kib": float,
            "keyframe_encode_ms": float, "psnr_db": float, "region_psnr_db": float (with a region)}

Times are milliseconds of the process's CPU time per frame (``wall_median`` adds the wall-clock median),
with the garbage collector off: CPU time leaves out the time other programs take the core away, which
wall-clock time on a shared machine does not. Every codec runs in the calling thread. Other programs still
share the caches and the memory bus, so figures taken on a loaded machine are somewhat pessimistic; the
ratios, measured in the same run, much less so.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import ctypes.util
import gc
import importlib
import itertools
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from opensupport.benchmarks.corpus import CorpusError, Manifest, list_scenarios, load_scenario

#: scenarios run with a lossy quality by default (``--quality auto``), with the lossy targets; every other
#: scenario runs at Quality.LOSSLESS with the lossless targets
LOSSY_SCENARIOS = {"video": "BALANCED"}
ENCODE_VS_X264 = 1 / 3
UNCHANGED_VS_MEMCMP = 1.5
DECODE_MEDIAN_MS = 1.5
KEYSTROKE_KIB = 0.4
LINE_SCROLL_KIB = 8.0
DRAG_KIB = 1.0
#: frames (spread over the scenario) on which the unchanged-frame cost is measured, and repeats per frame
UNCHANGED_SAMPLES = 8
UNCHANGED_REPEATS = 5

X264_OPTIONS = {"preset": "ultrafast", "tune": "zerolatency", "crf": "23", "threads": "1"}
VP9_OPTIONS = {
    "deadline": "realtime",
    "cpu-used": "8",
    "lag-in-frames": "0",
    "row-mt": "0",
    "crf": "32",
    "b": "0",
    "threads": "1",
}


class BenchError(Exception):
    """The benchmark cannot run: no corpus, a missing codec, a peer codec PyAV lacks."""


# --- measurement helpers --------------------------------------------------------------------------------


class Timer:
    """Per-call times in ms: the process's CPU time (what the figures use) and the wall-clock time.

    CPU time leaves out the time other programs on the machine take the core from us; every codec here
    works in the calling thread (one thread each), so it is the work the call did.
    """

    def __init__(self) -> None:
        self.cpu_ms: list[float] = []
        self.wall_ms: list[float] = []
        self._cpu = self._wall = 0

    def start(self) -> None:
        self._wall = time.perf_counter_ns()
        self._cpu = time.process_time_ns()

    def stop(self) -> None:
        cpu = time.process_time_ns()
        wall = time.perf_counter_ns()
        self.cpu_ms.append((cpu - self._cpu) / 1e6)
        self.wall_ms.append((wall - self._wall) / 1e6)

    def stats(self, skip: int = 1) -> dict[str, float]:
        """Median, 95th percentile and mean CPU ms, and the median wall ms, of the calls after ``skip``."""
        cpu, wall = self.cpu_ms[skip:], self.wall_ms[skip:]
        if not cpu:
            return {"median": 0.0, "p95": 0.0, "mean": 0.0, "wall_median": 0.0}
        arr = np.asarray(cpu, dtype=np.float64)
        return {
            "median": float(np.median(arr)),
            "p95": float(np.percentile(arr, 95)),
            "mean": float(arr.mean()),
            "wall_median": float(np.median(wall)),
        }


def pin_to_one_core(cpu: int | None) -> int | None:
    """Pin every thread of this process to one core (``cpu``, default the last allowed one).

    Returns the core, or None where the platform cannot pin. Threads started later inherit the mask.
    """
    if not hasattr(os, "sched_setaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    core = allowed[-1] if cpu is None else cpu
    if core not in allowed:
        raise BenchError(f"core {core} is not available to this process (allowed: {allowed})")
    try:
        tasks = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        tasks = [0]
    for task in tasks:
        with contextlib.suppress(OSError):  # a thread that just ended
            os.sched_setaffinity(task, {core})
    return core


_libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
_libc.memcmp.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
_libc.memcmp.restype = ctypes.c_int


def timed_memcmp(timer: Timer, a: np.ndarray, b: np.ndarray) -> None:
    """Time one libc memcmp of two equal-sized C-contiguous arrays; raises ``ValueError`` if they differ."""
    if a.nbytes != b.nbytes or not (a.flags.c_contiguous and b.flags.c_contiguous):
        raise ValueError("memcmp needs two C-contiguous arrays of the same size")
    timer.start()
    result = _libc.memcmp(a.ctypes.data, b.ctypes.data, a.nbytes)
    timer.stop()
    if result != 0:
        raise ValueError("the two frames differ")


def psnr_bgr(original: np.ndarray, decoded: np.ndarray) -> float:
    """PSNR in dB over the B, G, R channels of two BGRA frames (100 for identical frames)."""
    diff = original[..., :3].astype(np.int16) - decoded[..., :3].astype(np.int16)
    mse = float(np.mean(np.square(diff, dtype=np.int32)))
    return 100.0 if mse == 0 else 10 * math.log10(255.0**2 / mse)


def _kib(sizes: Sequence[int]) -> float:
    return float(np.mean(sizes)) / 1024 if sizes else 0.0


# --- the codecs -------------------------------------------------------------------------------------------


def moving_region(frames: list[np.ndarray]) -> tuple[int, int, int, int] | None:
    """The (x, y, w, h) box of every pixel that changes between consecutive frames (a video's window), or
    None when nothing changes."""
    moved = np.zeros(frames[0].shape[:2], dtype=np.bool_)
    for before, after in itertools.pairwise(frames):
        moved |= (before[..., :3] != after[..., :3]).any(axis=2)
    ys, xs = np.nonzero(moved)
    if ys.size == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def _blank_region(frame: np.ndarray, region: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = region
    out = frame[..., :3].copy()
    out[y : y + h, x : x + w] = 0
    return out


def _region_psnr(frame: np.ndarray, decoded: np.ndarray, region: tuple[int, int, int, int]) -> float:
    x, y, w, h = region
    return psnr_bgr(frame[y : y + h, x : x + w], decoded[y : y + h, x : x + w])


def run_ours(
    codec: Any,
    frames: list[np.ndarray],
    quality: str = "LOSSLESS",
    region: tuple[int, int, int, int] | None = None,
) -> tuple[dict[str, Any], list[int], Timer]:
    """Encode and decode every frame with our codec at ``quality`` (a ``Quality`` name); returns (results,
    bytes per frame, memcmp timer). With ``region`` (the video's box), also how many frames are exact
    outside it (bytes compared) and the PSNR inside it."""
    height, width = frames[0].shape[:2]
    options: dict[str, Any] = {"threads": 1}
    if quality != "LOSSLESS":
        options["quality"] = codec.Quality[quality]
    encoder = codec.Encoder(width, height, **options)
    decoder = codec.Decoder(width, height)
    encode, decode = Timer(), Timer()
    sizes: list[int] = []
    exact = 0
    lossy_updates = 0
    exact_outside = 0
    region_psnr: list[float] = []
    unchanged_exact = True
    gc.disable()
    try:
        for index, frame in enumerate(frames):
            encode.start()
            try:
                data = encoder.encode(frame)
            except Exception as exc:
                raise BenchError(f"our encoder failed on frame {index}: {exc!r}") from exc
            encode.stop()
            decode.start()
            try:
                framebuffer, _rects = decoder.decode(data)
            except Exception as exc:
                raise BenchError(f"our decoder failed on frame {index}: {exc!r}") from exc
            decode.stop()
            sizes.append(len(data))
            lossy_updates += len(data) > 4 and data[4] >= 3  # the format version of a lossy update
            if np.array_equal(framebuffer[..., :3], frame[..., :3]):
                exact += 1
            if region is not None:
                exact_outside += np.array_equal(
                    _blank_region(framebuffer, region), _blank_region(frame, region)
                )
                if index:
                    region_psnr.append(_region_psnr(frame, framebuffer, region))

        # The unchanged frame: encode a frame (resynchronising the encoder's reference), then an identical
        # copy of it, several times; the floor is memcmp of the same two buffers.
        # memcmp and our encode take turns, so that both see the same state of the machine.
        unchanged, floor = Timer(), Timer()
        unchanged_bytes = 0
        picks = sorted(
            {round(i * (len(frames) - 1) / max(1, UNCHANGED_SAMPLES - 1)) for i in range(UNCHANGED_SAMPLES)}
        )
        for index in picks:
            frame = frames[index]
            copy = frame.copy()
            decoder.decode(encoder.encode(frame))
            while getattr(encoder, "pending_refinement", 0):  # a lossy region refines to exact first
                decoder.decode(encoder.encode(frame))
            for _ in range(UNCHANGED_REPEATS):
                timed_memcmp(floor, frame, copy)
                unchanged.start()
                data = encoder.encode(copy)
                unchanged.stop()
                unchanged_bytes = max(unchanged_bytes, len(data))
                framebuffer, rects = decoder.decode(data)
                if rects or not np.array_equal(framebuffer[..., :3], frame[..., :3]):
                    unchanged_exact = False
    finally:
        gc.enable()
        close = getattr(encoder, "close", None)
        if close is not None:
            close()
    result = {
        "encode_ms": encode.stats(),
        "decode_ms": decode.stats(),
        "kib_per_frame": _kib(sizes[1:]),
        "keyframe_kib": sizes[0] / 1024,
        "keyframe_encode_ms": encode.cpu_ms[0],
        "lossless": exact == len(frames) and unchanged_exact,
        "lossless_frames": exact,
        "unchanged_exact": unchanged_exact,
        "unchanged_encode_ms": unchanged.stats(skip=0)["median"],
        "unchanged_bytes": unchanged_bytes,
        "quality": quality,
        "lossy_updates": int(lossy_updates),
    }
    if region is not None:
        result["exact_outside_frames"] = int(exact_outside)
        result["region_psnr_db"] = float(np.mean(region_psnr)) if region_psnr else 100.0
    return result, sizes, floor


def run_peer(
    encoder_name: str,
    decoder_name: str,
    options: dict[str, str],
    frames: list[np.ndarray],
    fps: float,
    region: tuple[int, int, int, int] | None = None,
) -> dict[str, Any]:
    """Encode and decode every frame with a PyAV codec (colour conversions included in the timings)."""
    import av

    height, width = frames[0].shape[:2]
    if width % 2 or height % 2:
        raise BenchError(f"{encoder_name} needs an even frame size (yuv420p), the corpus is {width}x{height}")
    if encoder_name not in av.codecs_available:
        raise BenchError(
            f"PyAV was built without {encoder_name}: install opensupport[bench] (PyAV wheels have it)"
        )
    rate = Fraction(round(fps * 1000), 1000)
    encoder: Any = av.CodecContext.create(encoder_name, "w")
    encoder.width, encoder.height = width, height
    encoder.pix_fmt = "yuv420p"
    encoder.time_base = 1 / rate
    encoder.framerate = rate
    encoder.thread_count = 1
    encoder.options = dict(options)
    decoder: Any = av.CodecContext.create(decoder_name, "r")
    decoder.thread_count = 1

    encode, decode = Timer(), Timer()
    sizes: list[int] = []
    psnr: list[float] = []
    region_psnr: list[float] = []
    gc.disable()
    try:
        for index, frame in enumerate(frames):
            encode.start()
            picture = av.VideoFrame.from_ndarray(frame, format="bgra").reformat(format="yuv420p")
            picture.pts = index
            packets = encoder.encode(picture)
            encode.stop()
            sizes.append(sum(packet.size for packet in packets))
            decoded: list[np.ndarray] = []
            decode.start()
            for packet in packets:
                decoded += [f.to_ndarray(format="bgra") for f in decoder.decode(packet)]
            decode.stop()
            if decoded:
                psnr.append(psnr_bgr(frame, decoded[-1]))
                if region is not None and index:
                    region_psnr.append(_region_psnr(frame, decoded[-1], region))
        if any(size == 0 for size in sizes):
            raise BenchError(f"{encoder_name} held frames back; it must emit one packet per frame")
    finally:
        gc.enable()
    return {
        "encode_ms": encode.stats(),
        "decode_ms": decode.stats(),
        "kib_per_frame": _kib(sizes[1:]),
        "keyframe_kib": sizes[0] / 1024,
        "keyframe_encode_ms": encode.cpu_ms[0],
        "psnr_db": float(np.mean(psnr)) if psnr else 0.0,
        **({"region_psnr_db": float(np.mean(region_psnr)) if region_psnr else 0.0} if region else {}),
    }


# --- one scenario -----------------------------------------------------------------------------------------


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else math.inf


def _finite(value: Any) -> Any:
    """The report with infinite or NaN floats as None, so that the JSON is standard."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def focus_figures(manifest: Manifest, sizes: list[int]) -> dict[str, float]:
    """The per-scenario figures that targets name: keystroke, line scroll, drag (KiB)."""
    actions = manifest.actions[: len(sizes)]
    focus: dict[str, float] = {}

    def picked(keep: Any) -> list[int]:
        return [
            size for i, (action, size) in enumerate(zip(actions, sizes, strict=True)) if i and keep(action)
        ]

    if manifest.scenario == "terminal-typing":
        keys = picked(lambda a: a.startswith("char:") and a[5:].strip() != "")
        focus.update(
            keystroke_kib=_kib(keys),
            keystroke_kib_max=max(keys, default=0) / 1024,
            keystroke_frames=len(keys),
        )
    elif manifest.scenario == "pager-scroll":
        lines = picked(lambda a: a.startswith("lines:"))
        focus.update(line_scroll_kib=_kib(lines), line_scroll_frames=len(lines))
    elif manifest.scenario == "window-drag":
        moves = picked(lambda a: a == "move")
        focus.update(drag_kib=_kib(moves), drag_frames=len(moves))
    return focus


def judge(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The targets of one scenario's results, each with value, limit and pass."""
    ours, x264, ratios, focus = result["ours"], result["x264"], result["ratios"], result["focus"]
    targets: dict[str, dict[str, Any]] = {}

    def target(name: str, value: float, limit: float, at_least: bool = False) -> None:
        passed = value >= limit if at_least else value <= limit
        targets[name] = {"value": value, "limit": limit, "pass": bool(passed), "at_least": at_least}

    if ours["quality"] != "LOSSLESS":
        # Lossy (issue 8): against x264 on the same frames; the text beside the video stays exact, the
        # video's region at least as good as x264's, no more bytes and no more encode time than x264.
        frames = len(result["ours_sizes"])
        target("text_exact", float(frames - ours.get("exact_outside_frames", 0)), 0.0)
        target("video_size", ours["kib_per_frame"], x264["kib_per_frame"])
        target("video_psnr", ours.get("region_psnr_db", 0.0), x264.get("region_psnr_db", math.inf), True)
        target("video_encode", ratios["encode_vs_x264"], 1.0)
        target("unchanged", ratios["unchanged_vs_memcmp"], UNCHANGED_VS_MEMCMP)
        return targets
    # the value is the number of inexact frames (an unchanged frame that changed anything counts as one)
    inexact = len(result["ours_sizes"]) - ours["lossless_frames"] + (0 if ours["unchanged_exact"] else 1)
    target("lossless", float(inexact), 0.0)
    if not result["target"]:
        return targets
    target("encode", ratios["encode_vs_x264"], ENCODE_VS_X264)
    target("size", ours["kib_per_frame"], x264["kib_per_frame"])
    target("unchanged", ratios["unchanged_vs_memcmp"], UNCHANGED_VS_MEMCMP)
    target("decode", ours["decode_ms"]["median"], DECODE_MEDIAN_MS)
    if "keystroke_kib" in focus:
        target("keystroke", focus["keystroke_kib"], KEYSTROKE_KIB)
    if "line_scroll_kib" in focus:
        target("line_scroll", focus["line_scroll_kib"], LINE_SCROLL_KIB)
    if "drag_kib" in focus:
        target("drag", focus["drag_kib"], DRAG_KIB)
    return targets


def scenario_quality(scenario: str, quality: str) -> str:
    """The ``Quality`` name a scenario runs at: ``quality`` itself, or for ``auto`` the lossy quality of
    LOSSY_SCENARIOS (video) and LOSSLESS for every other scenario."""
    if quality == "auto":
        return LOSSY_SCENARIOS.get(scenario, "LOSSLESS")
    return quality.upper()


def bench_scenario(
    codec: Any, corpus: Path, scenario: str, limit: int | None, quality: str = "auto"
) -> dict[str, Any]:
    """Run all codecs on one scenario and return its results (the JSON object of the scenario)."""
    manifest, frames = load_scenario(corpus, scenario, limit)
    if len(frames) < 2:
        raise BenchError(f"{scenario}: needs at least 2 frames, has {len(frames)}")
    chosen = scenario_quality(scenario, quality)
    region = moving_region(frames) if scenario in LOSSY_SCENARIOS else None
    try:
        ours, sizes, floor_timer = run_ours(codec, frames, chosen, region)
    except BenchError as exc:
        raise BenchError(f"{scenario}: {exc}") from exc
    x264 = run_peer("libx264", "h264", X264_OPTIONS, frames, manifest.fps, region)
    vp9 = run_peer("libvpx-vp9", "vp9", VP9_OPTIONS, frames, manifest.fps, region)
    floor = floor_timer.stats(skip=0)["median"]
    result: dict[str, Any] = {
        "frames": len(frames),
        "width": manifest.width,
        "height": manifest.height,
        "fps": manifest.fps,
        "description": manifest.description,
        "target": True,
        "region": list(region) if region else None,
        "ours": ours,
        "x264": x264,
        "vp9": vp9,
        "memcmp_ms": floor,
        "ratios": {
            "encode_vs_x264": _ratio(ours["encode_ms"]["median"], x264["encode_ms"]["median"]),
            "encode_vs_vp9": _ratio(ours["encode_ms"]["median"], vp9["encode_ms"]["median"]),
            "kib_vs_x264": _ratio(ours["kib_per_frame"], x264["kib_per_frame"]),
            "kib_vs_vp9": _ratio(ours["kib_per_frame"], vp9["kib_per_frame"]),
            "decode_vs_x264": _ratio(ours["decode_ms"]["median"], x264["decode_ms"]["median"]),
            "unchanged_vs_memcmp": _ratio(ours["unchanged_encode_ms"], floor),
        },
        "focus": focus_figures(manifest, sizes),
        "ours_sizes": sizes,
    }
    result["targets"] = judge(result)
    del result["ours_sizes"]
    return result


# --- output -----------------------------------------------------------------------------------------------


def format_table(report: dict[str, Any]) -> str:
    """The human-readable report."""
    out: list[str] = []
    pin = f"pinned to core {report['cpu']}" if report["pinned"] else "NOT pinned"
    load = ", ".join(f"{x:.2f}" for x in report["load_average"])
    out.append(f"opensupport bench codec — corpus {report['corpus']}, {pin}, load average {load}")
    out.append("times in ms/frame (median / p95), sizes in KiB/frame; the keyframe (frame 0) is excluded")
    header = f"{'':16} {'codec':6} {'encode':>15} {'decode':>15} {'KiB/frame':>10} {'key KiB':>9} {'PSNR':>6}  lossless"
    for name, res in report["scenarios"].items():
        out += [
            "",
            f"{name}: {res['description']} ({res['frames']} frames {res['width']}x{res['height']})",
            header,
        ]
        for codec in ("ours", "x264", "vp9"):
            r = res[codec]
            enc = f"{r['encode_ms']['median']:.2f} / {r['encode_ms']['p95']:.2f}"
            dec = f"{r['decode_ms']['median']:.2f} / {r['decode_ms']['p95']:.2f}"
            if codec == "ours" and r["lossless"]:
                psnr, exact = "exact", f"{r['lossless_frames']}/{res['frames']}"
            elif codec == "ours":
                psnr = f"{r.get('region_psnr_db', 0.0):.1f}*"
                exact = f"{r['lossless_frames']}/{res['frames']}, outside the video {r.get('exact_outside_frames', 0)}/{res['frames']}"
            else:
                psnr = f"{r['region_psnr_db']:.1f}*" if "region_psnr_db" in r else f"{r['psnr_db']:.1f}"
                exact = "-"
            out.append(
                f"{'':16} {codec:6} {enc:>15} {dec:>15} {r['kib_per_frame']:>10.2f} {r['keyframe_kib']:>9.1f} {psnr:>6}  {exact}"
            )
        ratios = res["ratios"]
        out.append(
            f"{'':16} ratios: encode/x264 {ratios['encode_vs_x264']:.3f}, KiB/x264 {ratios['kib_vs_x264']:.3f}, "
            f"encode/vp9 {ratios['encode_vs_vp9']:.3f}, KiB/vp9 {ratios['kib_vs_vp9']:.3f}, "
            f"decode/x264 {ratios['decode_vs_x264']:.3f}"
        )
        out.append(
            f"{'':16} unchanged frame: ours {res['ours']['unchanged_encode_ms']:.3f} ms "
            f"({res['ours']['unchanged_bytes']} B), memcmp {res['memcmp_ms']:.3f} ms, "
            f"ratio {ratios['unchanged_vs_memcmp']:.2f}"
        )
        if res.get("region"):
            out.append(
                f"{'':16} quality {res['ours']['quality']}: {res['ours']['lossy_updates']} lossy updates; "
                f"PSNR* of the video region {res['region']} (frames 1..N-1)"
            )
        for key, value in res["focus"].items():
            if key.endswith("_kib"):
                out.append(f"{'':16} {key}: {value:.3f} KiB")
        marks = [
            f"{'PASS' if t['pass'] else 'FAIL'} {t_name} {t['value']:.3g} {'>=' if t['at_least'] else '<='} {t['limit']:.3g}"
            for t_name, t in res["targets"].items()
        ]
        out.append(f"{'':16} targets: " + "; ".join(marks))
    out += ["", f"targets: {report['targets_passed']} passed, {report['targets_failed']} failed"]
    return "\n".join(out)


def _load_codec(module: str) -> Any:
    try:
        codec = importlib.import_module(module)
    except ImportError as exc:
        raise BenchError(f"cannot import the codec {module!r}: {exc} (run `make setup`)") from exc
    for name in ("Encoder", "Decoder"):
        if not hasattr(codec, name):
            raise BenchError(f"{module} has no {name}: the codec is not built yet")
    return codec


def run(
    corpus: Path,
    scenarios: list[str] | None,
    limit: int | None,
    cpu: int | None,
    module: str,
    quality: str = "auto",
) -> dict[str, Any]:
    """Benchmark the corpus and return the report (the ``--json`` object).

    Raises ``BenchError`` or ``CorpusError`` when something needed is missing.
    """
    codec = _load_codec(module)
    available = list_scenarios(corpus)
    chosen = scenarios or available
    missing = [s for s in chosen if s not in available]
    if missing or not chosen:
        raise BenchError(f"scenarios {missing or chosen} are not in {corpus} (it has {available})")
    core = pin_to_one_core(cpu)
    import av

    report: dict[str, Any] = {
        "corpus": str(corpus),
        "cpu": core,
        "pinned": core is not None,
        "load_average": list(os.getloadavg()),
        "versions": {"opensupport": _version(), "av": av.__version__},
        "scenarios": {},
    }
    for scenario in chosen:
        report["scenarios"][scenario] = bench_scenario(codec, corpus, scenario, limit, quality)
        gc.collect()
    verdicts = [t["pass"] for res in report["scenarios"].values() for t in res["targets"].values()]
    report["targets_passed"] = sum(verdicts)
    report["targets_failed"] = len(verdicts) - sum(verdicts)
    report["all_pass"] = all(verdicts)
    return report


def _version() -> str:
    from opensupport import __version__

    return __version__


def main(argv: list[str]) -> int:
    """``opensupport bench codec``; returns the exit code (0 when it ran, whatever the targets say)."""
    parser = argparse.ArgumentParser(
        prog="opensupport bench codec",
        description="The tile codec against x264 and VP9 on a recorded corpus (see `opensupport bench record`).",
    )
    parser.add_argument(
        "--corpus", type=Path, default=Path("corpus"), help="corpus directory (default ./corpus)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument(
        "--scenarios", nargs="+", metavar="NAME", help="scenarios to run (default all recorded)"
    )
    parser.add_argument("--frames", type=int, help="use only the first N frames of each scenario")
    parser.add_argument("--cpu", type=int, help="the core to pin to (default the last allowed core)")
    parser.add_argument(
        "--codec",
        default="opensupport.codec",
        help="module providing Encoder and Decoder (default opensupport.codec)",
    )
    parser.add_argument(
        "--quality",
        choices=["auto", "lossless", "high", "balanced", "low"],
        default="auto",
        help="our encoder's quality: auto (default) runs the video scenario at balanced with the lossy "
        "targets and every other scenario at lossless; another value runs every scenario at it",
    )
    args = parser.parse_args(argv)
    if args.frames is not None and args.frames < 2:
        parser.error("--frames must be at least 2")
    try:
        report = run(args.corpus, args.scenarios, args.frames, args.cpu, args.codec, args.quality)
    except (BenchError, CorpusError) as exc:
        print(f"opensupport bench codec: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(_finite(report), indent=1, allow_nan=False) if args.json else format_table(report))
    return 0
