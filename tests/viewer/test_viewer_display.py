"""The GUI-free display model: transform, repaint rectangles, frame store, monitors, meter."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from opensupport.viewer.display import (
    DisplayModel,
    FrameStore,
    Monitor,
    MonitorLayout,
    ViewMode,
    ViewTransform,
)
from opensupport.viewer.meter import StatsMeter, format_status

FRAMES = [(1920, 1080), (1280, 1024), (800, 600), (1080, 1920), (333, 77)]
WIDGETS = [(1000, 700), (640, 480), (1920, 1080), (401, 999), (3000, 2000), (97, 61)]


def render_nearest(frame: np.ndarray, t: ViewTransform) -> np.ndarray:
    """The widget image a nearest-neighbour paint through ``t`` gives (background 0): each widget pixel
    shows the frame pixel under its centre."""
    out = np.zeros((t.widget_height, t.widget_width, 4), np.uint8)
    fx = np.floor((np.arange(t.widget_width) + 0.5 - t.origin_x) / t.scale_x).astype(int)
    fy = np.floor((np.arange(t.widget_height) + 0.5 - t.origin_y) / t.scale_y).astype(int)
    cols, rows = (
        np.flatnonzero((fx >= 0) & (fx < t.frame_width)),
        np.flatnonzero((fy >= 0) & (fy < t.frame_height)),
    )
    out[np.ix_(rows, cols)] = frame[np.ix_(fy[rows], fx[cols])]
    return out


@pytest.mark.parametrize(("frame", "widget"), list(itertools.product(FRAMES, WIDGETS)))
def test_fit_maps_corners_and_centre_exactly(frame: tuple[int, int], widget: tuple[int, int]) -> None:
    fw, fh = frame
    ww, wh = widget
    t = ViewTransform.compute(frame, widget, ViewMode.FIT)
    x, y, w, h = t.picture_rect()
    # The picture touches two opposite edges, is centred, keeps the aspect ratio to within a pixel.
    assert x == int(x) and y == int(y) and w == round(w) and h == round(h)
    assert (x == 0 and w == ww) or (y == 0 and h == wh)
    assert abs(x - (ww - w - x)) <= 1 and abs(y - (wh - h - y)) <= 1
    assert abs(w / h - fw / fh) <= fw / fh * (1 / min(w, h)) + 1e-9
    # Corners, continuous and as pixels.
    assert t.to_widget(0, 0) == (x, y)
    assert t.to_widget(fw, fh) == pytest.approx((x + w, y + h), abs=1e-9)
    assert t.frame_pixel_at(x, y) == (0, 0)
    assert t.frame_pixel_at(x + w - 1, y + h - 1) == (fw - 1, fh - 1)
    assert t.frame_pixel_at(x + w - 1, y) == (fw - 1, 0)
    assert t.frame_pixel_at(x, y + h - 1) == (0, fh - 1)
    # Centre.
    assert t.to_frame(x + w / 2, y + h / 2) == pytest.approx((fw / 2, fh / 2), abs=1e-9)
    assert t.to_widget(fw / 2, fh / 2) == pytest.approx((x + w / 2, y + h / 2), abs=1e-9)
    # Just outside the picture is outside, or clamped.
    if x > 0:
        assert t.frame_pixel_at(x - 1, y) is None
        assert t.frame_pixel_at(x - 1, y, clamp=True) == (0, 0)
    if y > 0:
        assert t.frame_pixel_at(x + w, y + h) is None
        assert t.frame_pixel_at(x + w, y + h, clamp=True) == (fw - 1, fh - 1)


@pytest.mark.parametrize(("frame", "widget"), list(itertools.product(FRAMES, WIDGETS)))
def test_round_trips_stay_within_a_pixel(frame: tuple[int, int], widget: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(frame) * 7919 + sum(widget))
    for mode in ViewMode:
        t = ViewTransform.compute(frame, widget, mode, scroll=(37, 11))
        down_x, down_y = t.scale_x <= 1, t.scale_y <= 1
        # widget pixel -> host pixel -> widget pixel: exact when downscaled, else within half a host pixel.
        for wx, wy in zip(rng.integers(0, widget[0], 300), rng.integers(0, widget[1], 300), strict=True):
            p = t.frame_pixel_at(int(wx), int(wy))
            if p is None:
                continue
            bx, by = t.widget_pixel_of(*p)
            assert abs(bx - wx) <= (0 if down_x else math.ceil(t.scale_x / 2))
            assert abs(by - wy) <= (0 if down_y else math.ceil(t.scale_y / 2))
        # host pixel -> widget pixel -> host pixel: exact when not downscaled, else within half a widget pixel.
        for fx, fy in zip(rng.integers(0, frame[0], 300), rng.integers(0, frame[1], 300), strict=True):
            wx, wy = t.widget_pixel_of(int(fx), int(fy))
            if not (0 <= wx < widget[0] and 0 <= wy < widget[1]):
                continue
            back = t.frame_pixel_at(wx, wy)
            assert back is not None
            assert abs(back[0] - fx) <= (math.ceil(1 / t.scale_x / 2) if t.scale_x < 1 else 0)
            assert abs(back[1] - fy) <= (math.ceil(1 / t.scale_y / 2) if t.scale_y < 1 else 0)


def test_one_to_one_centres_small_frames_and_scrolls_large_ones() -> None:
    small = ViewTransform.compute((800, 600), (1000, 700), ViewMode.ONE_TO_ONE)
    assert (small.origin_x, small.origin_y, small.scale_x) == (100, 50, 1.0)
    assert small.frame_pixel_at(100, 50) == (0, 0)
    assert small.frame_pixel_at(899, 649) == (799, 599)
    assert small.frame_pixel_at(500, 350) == (400, 300)
    assert small.frame_pixel_at(99, 50) is None
    big = ViewTransform.compute((1920, 1080), (1000, 700), ViewMode.ONE_TO_ONE, scroll=(500, 10_000))
    assert (big.max_scroll_x, big.max_scroll_y) == (920, 380)
    assert (big.scroll_x, big.scroll_y) == (500, 380)  # clamped
    assert big.frame_pixel_at(0, 0) == (500, 380)
    assert big.frame_pixel_at(999, 699) == (1499, 1079)
    assert big.widget_pixel_of(1919, 1079) == (1419, 699)
    negative = ViewTransform.compute((1920, 1080), (1000, 700), ViewMode.ONE_TO_ONE, scroll=(-5, -5))
    assert (negative.scroll_x, negative.scroll_y) == (0, 0)
    # A HiDPI widget (2 device pixels per logical pixel): one host pixel per device pixel.
    hidpi = ViewTransform.compute((1920, 1080), (1000, 700), ViewMode.ONE_TO_ONE, device_pixel_ratio=2.0)
    assert hidpi.scale_x == 0.5 and hidpi.max_scroll_x == 0 and hidpi.origin_x == 20
    assert hidpi.frame_pixel_at(20, 80) == (0, 0)
    assert hidpi.frame_pixel_at(20.5, 80.5) == (1, 1)


def test_empty_transform_maps_nothing() -> None:
    t = ViewTransform.compute((0, 0), (640, 480), ViewMode.FIT)
    assert t.empty and t.frame_pixel_at(10, 10) is None and t.frame_rect_to_widget(0, 0, 5, 5) is None
    with pytest.raises(ValueError):
        ViewTransform.compute((-1, 5), (640, 480), ViewMode.FIT)


@pytest.mark.parametrize(
    ("frame", "widget", "mode"),
    [
        ((160, 90), (100, 70), ViewMode.FIT),
        ((50, 40), (173, 131), ViewMode.FIT),
        ((120, 80), (90, 60), ViewMode.ONE_TO_ONE),
    ],
)
def test_changed_rects_map_to_widget_rects_that_cover_the_changed_pixels(
    frame: tuple[int, int], widget: tuple[int, int], mode: ViewMode
) -> None:
    rng = np.random.default_rng(7)
    fw, fh = frame
    t = ViewTransform.compute(frame, widget, mode, scroll=(13, 9))
    before = rng.integers(0, 256, (fh, fw, 4), dtype=np.uint8)
    shown_before = render_nearest(before, t)
    covered = 0
    for _ in range(25):
        x, y = int(rng.integers(0, fw)), int(rng.integers(0, fh))
        w, h = int(rng.integers(1, fw - x + 1)), int(rng.integers(1, fh - y + 1))
        after = before.copy()
        after[y : y + h, x : x + w] ^= 0x80
        changed = np.argwhere((render_nearest(after, t) != shown_before).any(axis=2))
        r = t.frame_rect_to_widget(x, y, w, h)
        if r is None:
            assert changed.size == 0
            continue
        if changed.size == 0:
            continue  # a downscaled view may sample none of a small change
        assert changed[:, 1].min() >= r.x and changed[:, 1].max() < r.x + r.w
        assert changed[:, 0].min() >= r.y and changed[:, 0].max() < r.y + r.h
        # Outward rounding, but not wildly: at most one widget pixel beyond the exact edges on each side.
        left, _ = t.to_widget(x, y)
        assert r.x >= math.floor(left) - 1 and r.w <= math.ceil(w * t.scale_x) + 2
        covered += 1
    assert covered >= 10


def test_repaint_rect_has_a_filter_margin_only_when_scaled_and_smooth() -> None:
    model = DisplayModel()
    model.store.apply(np.zeros((100, 200, 4), np.uint8), [])
    model.widget_size = (400, 200)
    assert model.repaint_rect((10, 10, 5, 5)) == (18, 18, 14, 14)  # 2x, one frame pixel around
    model.smooth = False
    assert model.repaint_rect((10, 10, 5, 5)) == (20, 20, 10, 10)
    model.mode = ViewMode.ONE_TO_ONE
    model.smooth = True
    assert model.repaint_rect((10, 10, 5, 5)) == (110, 60, 5, 5)


def test_frame_store_applies_whole_updates_and_follows_resizes() -> None:
    store = FrameStore()
    assert store.size == (0, 0) and store.snapshot() is None
    fb = np.zeros((6, 8, 4), np.uint8)
    assert store.apply(fb, []) is True
    fb[1:3, 2:5] = 9
    fb[5, 7] = 4
    assert store.apply(fb, [(2, 1, 3, 2)]) is False
    snap = store.snapshot()
    assert snap is not None
    assert (snap[1:3, 2:5] == 9).all() and snap[5, 7].sum() == 0  # only the reported rect was copied
    with pytest.raises(ValueError, match="outside"):
        store.apply(fb, [(0, 0, 2, 2), (7, 5, 2, 1)])
    assert np.array_equal(store.snapshot(), snap)  # a bad rect leaves the buffer untouched
    with pytest.raises(ValueError):
        store.apply(np.zeros((6, 8, 3), np.uint8), [])
    bigger = np.full((10, 12, 4), 3, np.uint8)
    assert store.apply(bigger, []) is True
    assert store.size == (12, 10) and np.array_equal(store.snapshot(), bigger)
    assert store.buffer is not bigger  # a copy: the decoder keeps mutating its own


def test_monitor_layout() -> None:
    layout = MonitorLayout()
    a, b = Monitor(0, 0, 0, 1920, 1080, primary=True), Monitor(1, 1920, 0, 1280, 1024, name="DP-2")
    layout.replace([a, b], selected=0)
    assert layout.get(1) is b and b.label() == "1: 1280×1024 DP-2" and a.label() == "0: 1920×1080 (primary)"
    with pytest.raises(KeyError):
        layout.get(2)
    with pytest.raises(ValueError):
        layout.replace([a, a])
    with pytest.raises(ValueError):
        layout.replace([a], selected=3)
    with pytest.raises(ValueError):
        Monitor(0, 0, 0, 0, 10)


def test_meter_rolls_its_windows() -> None:
    now = [100.0]
    meter = StatsMeter(window_s=1.0, clock=lambda: now[0])
    now[0] = 100.5
    for _ in range(10):
        meter.record_frame(1000)
    stats = meter.read()
    assert stats.fps == pytest.approx(20.0) and stats.bandwidth_bps == pytest.approx(20_000)
    assert stats.latency_ms is None
    for i in range(30):
        now[0] = 101.0 + i / 30
        meter.record_frame(500)
    for ms in (10, 30, 20):
        meter.record_latency(ms / 1000)
    now[0] = 101.99
    stats = meter.read()
    assert stats.fps == pytest.approx(30.0) and stats.bandwidth_bps == pytest.approx(15_000)
    assert stats.latency_ms == pytest.approx(20.0)
    assert stats.frames_total == 40 and stats.bytes_total == 25_000
    now[0] = 110.0
    stats = meter.read()
    assert stats.fps == 0 and stats.latency_ms is None
    line = format_status(stats, "fit", True, (1920, 1080))
    assert line == "0.0 fps · latency – · 0 B/s · fit · 1920×1080 · view only"
    with pytest.raises(ValueError):
        meter.record_latency(-1)
