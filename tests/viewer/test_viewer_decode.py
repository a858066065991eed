"""Decoding off the GUI thread: order, atomic hand-off to the painter, failures, resizes, the real codec."""

from __future__ import annotations

import struct
import threading
import time

import numpy as np
import pytest
from opensupport.viewer.decode import DecodeFailure, DecodeWorker, FrameUpdate
from opensupport.viewer.display import DisplayModel, FrameStore, ViewMode
from opensupport.viewer.ui.window import ViewerWindow
from PySide6.QtCore import QCoreApplication
from viewer_helpers import grab_pixels

#: Four rectangles far apart; every fake update paints all of them with one value.
RECTS = [(0, 0, 16, 8), (40, 2, 8, 20), (10, 30, 30, 10), (56, 34, 8, 6)]
WIDTH, HEIGHT = 64, 40


class FakeDecodeError(Exception):
    pass


class PatternDecoder:
    """Follows the Decoder contract: owns a framebuffer, mutates it in place, returns (framebuffer, rects).

    An update is b"P" + value byte: paint every rectangle of RECTS with that value, slowly and one row at a
    time, so that anyone looking at this buffer during a decode would see a half-applied update. b"K" + w, h
    is a keyframe of a new size (value 0). Anything else raises, leaving the framebuffer as it was.
    """

    def __init__(self, width: int, height: int, delay: float = 0.0005) -> None:
        self.framebuffer = self._blank(width, height)
        self.delay = delay

    @staticmethod
    def _blank(width: int, height: int) -> np.ndarray:
        fb = np.zeros((height, width, 4), np.uint8)
        fb[..., 3] = 255
        return fb

    def decode(self, data: bytes) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
        if data[:1] == b"K" and len(data) == 5:
            width, height = struct.unpack(">HH", data[1:])
            self.framebuffer = self._blank(width, height)
            return self.framebuffer, [(0, 0, width, height)]
        if data[:1] != b"P" or len(data) != 2:
            raise FakeDecodeError(f"bad update {data!r}")
        value = data[1]
        for x, y, w, h in RECTS:
            for row in range(y, y + h):
                self.framebuffer[row, x : x + w, :3] = value
                time.sleep(self.delay / 10)
            time.sleep(self.delay)
        return self.framebuffer, list(RECTS)


def rect_values(pixels: np.ndarray) -> set[int]:
    """The distinct channel values found inside RECTS (one value = one whole update)."""
    values: set[int] = set()
    for x, y, w, h in RECTS:
        values |= set(np.unique(pixels[y : y + h, x : x + w, :3]).tolist())
    return values


def test_worker_delivers_in_order_and_the_store_never_holds_half_an_update() -> None:
    store = FrameStore()
    updates: list[FrameUpdate] = []
    failures: list[DecodeFailure] = []
    decoder = PatternDecoder(WIDTH, HEIGHT)
    worker = DecodeWorker(decoder, store, updates.append, failures.append, max_pending=2)
    store.apply(decoder.framebuffer, [])
    seen: list[int] = []
    torn: list[set[int]] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            snap = store.snapshot()
            values = rect_values(snap) if snap is not None else set()
            if len(values) == 1:
                seen.append(values.pop())
            else:
                torn.append(values)

    watcher = threading.Thread(target=watch)
    watcher.start()
    worker.start()
    for value in range(1, 61):
        assert worker.submit(bytes([ord("P"), value])) == value
    worker.stop()
    done.set()
    watcher.join()
    assert failures == [] and torn == []
    assert [u.sequence for u in updates] == list(range(1, 61))
    assert all(u.rects == tuple(RECTS) and not u.resized for u in updates)
    assert seen == sorted(seen) and len(set(seen)) > 5  # the watcher saw many updates, whole and in order
    final = store.snapshot()
    assert final is not None and rect_values(final) == {60}
    with pytest.raises(RuntimeError):
        worker.submit(b"P\x01")


def test_worker_reports_failures_and_follows_resizes() -> None:
    store = FrameStore()
    updates: list[FrameUpdate] = []
    failures: list[DecodeFailure] = []
    decoder = PatternDecoder(WIDTH, HEIGHT, delay=0)
    worker = DecodeWorker(decoder, store, updates.append, failures.append)
    worker.start()
    worker.submit(b"K" + struct.pack(">HH", WIDTH, HEIGHT))
    worker.submit(b"P\x07")
    worker.submit(b"garbage")
    worker.submit(b"K" + struct.pack(">HH", 100, 50))
    worker.submit(b"P\x09")
    worker.stop()
    assert [(u.sequence, u.resized, u.width, u.height) for u in updates] == [
        (1, True, WIDTH, HEIGHT),
        (2, False, WIDTH, HEIGHT),
        (4, True, 100, 50),
        (5, False, 100, 50),
    ]
    assert updates[2].rects == ((0, 0, 100, 50),)
    assert len(failures) == 1 and failures[0].sequence == 3 and isinstance(failures[0].error, FakeDecodeError)
    assert store.size == (100, 50)
    snap = store.snapshot()
    assert snap is not None and rect_values(snap) == {9} and snap[49, 99, 0] == 0


def process_until(condition: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out waiting for the GUI thread"
        QCoreApplication.processEvents()
        time.sleep(0.001)


@pytest.mark.usefixtures("qapp")
def test_the_gui_never_paints_half_an_update() -> None:
    window = ViewerWindow(DisplayModel(mode=ViewMode.ONE_TO_ONE))
    window.show()
    decoder = PatternDecoder(WIDTH, HEIGHT)
    worker = window.start_decoding(decoder)
    received: list[FrameUpdate] = []
    painted: list[int] = []
    screen = window.remote_screen

    def painted_values() -> int:
        t = screen.model.transform()
        x0, y0 = int(t.origin_x), int(t.origin_y)
        values = rect_values(grab_pixels(screen)[y0 : y0 + HEIGHT, x0 : x0 + WIDTH])
        assert len(values) == 1, values
        return values.pop()

    def on_update(update: FrameUpdate) -> None:
        assert threading.current_thread() is threading.main_thread()
        received.append(update)
        painted.append(painted_values())

    def done() -> bool:
        # Paint between updates too, while the worker decodes the next one into the decoder's buffer.
        if received:  # before the first update the widget shows its "waiting" background
            painted.append(painted_values())
        return len(received) == 40

    window.bridge.frame_updated.connect(on_update)
    feeder = threading.Thread(target=lambda: [worker.submit(bytes([ord("P"), v])) for v in range(1, 41)])
    feeder.start()
    process_until(done)
    feeder.join()
    worker.stop()
    assert [u.sequence for u in received] == list(range(1, 41))
    assert screen.updates_received == 40
    assert painted == sorted(painted) and painted[-1] == 40
    stats = window.model.meter.read()
    assert stats.frames_total == 40 and stats.bytes_total == 80
    window.refresh_status()
    assert "fps" in window.stats_label.text() and f"{WIDTH}×{HEIGHT}" in window.stats_label.text()
    window.close()


@pytest.mark.usefixtures("qapp")
@pytest.mark.parametrize("mode", list(ViewMode))
def test_real_codec_updates_reach_the_widget_pixel_for_pixel(mode: ViewMode) -> None:
    from opensupport.codec import Decoder, Encoder

    width, height = 320, 200
    rng = np.random.default_rng(11)
    frame = np.zeros((height, width, 4), np.uint8)
    frame[..., 3] = 255
    frame[..., :3] = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    encoder = Encoder(width, height)
    window = ViewerWindow(DisplayModel(mode=mode, smooth=False))
    window.resize(500, 400)
    window.show()
    worker = window.start_decoding(Decoder(width, height))
    received: list[FrameUpdate] = []
    failures: list[DecodeFailure] = []
    window.bridge.frame_updated.connect(received.append)
    window.bridge.decode_failed.connect(failures.append)
    frames = [frame.copy()]
    worker.submit(encoder.encode(frame, keyframe=True))
    for i in range(12):
        # Text-like edits: small boxes in a few places, and a scrolled band.
        x, y = int(rng.integers(0, width - 40)), int(rng.integers(0, height - 12))
        frame[y : y + 12, x : x + 40, :3] = (i * 20) % 256
        if i % 4 == 3:
            frame[100:180] = np.roll(frame[100:180], -8, axis=0)
        frames.append(frame.copy())
        worker.submit(encoder.encode(frame))
    process_until(lambda: len(received) == len(frames))
    worker.stop()
    assert failures == []
    assert received[0].resized and not any(u.resized for u in received[1:])
    snap = window.model.store.snapshot()
    assert snap is not None and np.array_equal(snap, frames[-1])
    screen = window.remote_screen
    t = screen.model.transform()
    shown = grab_pixels(screen)
    if mode is ViewMode.ONE_TO_ONE:
        x0, y0 = int(t.origin_x), int(t.origin_y)
        assert np.array_equal(shown[y0 : y0 + height, x0 : x0 + width], frames[-1])
    else:
        # Nearest-neighbour scaling: each widget pixel shows the frame pixel under its centre, or (Qt's
        # fixed-point sampler, right at a boundary) one of its neighbours.
        x0, y0, pw, ph = (int(v) for v in t.picture_rect())
        xs = np.floor((np.arange(x0, x0 + pw) + 0.5 - t.origin_x) / t.scale_x).astype(int)
        ys = np.floor((np.arange(y0, y0 + ph) + 0.5 - t.origin_y) / t.scale_y).astype(int)
        picture = shown[y0 : y0 + ph, x0 : x0 + pw]
        exact = np.zeros(picture.shape[:2], bool)
        near = np.zeros(picture.shape[:2], bool)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                candidate = frames[-1][
                    np.ix_(np.clip(ys + dy, 0, height - 1), np.clip(xs + dx, 0, width - 1))
                ]
                match = (picture == candidate).all(axis=2)
                near |= match
                if dx == dy == 0:
                    exact = match
        assert near.all() and exact.mean() > 0.9
    window.close()


def test_a_failing_receiver_does_not_stop_the_worker() -> None:
    store = FrameStore()
    delivered: list[int] = []

    def receiver(update: FrameUpdate) -> None:
        if update.sequence == 2:
            raise RuntimeError("the window is gone")
        delivered.append(update.sequence)

    worker = DecodeWorker(
        PatternDecoder(WIDTH, HEIGHT, delay=0), store, receiver, lambda f: None, max_pending=1
    )
    worker.start()
    for value in range(1, 5):
        worker.submit(bytes([ord("P"), value]), timeout=10)
    worker.stop()
    assert delivered == [1, 3, 4]
    snap = store.snapshot()
    assert snap is not None and rect_values(snap) == {4}


@pytest.mark.usefixtures("qapp")
def test_closing_the_window_stops_its_decode_worker() -> None:
    window = ViewerWindow()
    window.show()
    worker = window.start_decoding(PatternDecoder(WIDTH, HEIGHT, delay=0))
    worker.submit(b"P\x05")
    window.close()
    with pytest.raises(RuntimeError, match="stopped"):
        worker.submit(b"P\x06")
    snap = window.model.store.snapshot()
    assert snap is not None and rect_values(snap) == {5}  # what was queued was still decoded
