"""Round trips: after every decode the framebuffer equals the encoded frame in B, G and R."""

from __future__ import annotations

import numpy as np
import pytest
from codec_frames import desktop, gradient, noise, terminal, text_lines, window
from opensupport.codec import Decoder, Encoder, Rect, _native


def assert_same(fb: np.ndarray, frame: np.ndarray) -> None:
    assert fb.shape == frame.shape
    assert np.array_equal(fb[:, :, :3], frame[:, :, :3])
    assert (fb[:, :, 3] == 255).all()


def roundtrip(frames: list[np.ndarray], **options: int) -> list[bytes]:
    height, width = frames[0].shape[:2]
    enc, dec = Encoder(width, height, **options), Decoder(width, height)
    updates = []
    for frame in frames:
        update = enc.encode(frame)
        fb, _ = dec.decode(update)
        assert_same(fb, frame)
        updates.append(update)
    return updates


@pytest.mark.parametrize("size", [(1, 1), (65, 33), (64, 64), (130, 70), (200, 1), (1, 150)])
def test_sizes_including_widths_off_the_tile_grid(size: tuple[int, int]) -> None:
    width, height = size
    roundtrip(
        [noise(width, height, 1), gradient(width, height), noise(width, height, 2), noise(width, height, 2)]
    )


def test_4k_frames() -> None:
    first = terminal(3840, 2160)
    second = first.copy()
    second[2000:2016, 3000:3100, :3] = 255
    updates = roundtrip([first, second, second])
    assert len(updates[2]) < 40  # unchanged frame: a header only


def test_noise_gradient_text_sequence() -> None:
    width, height = 320, 200
    frames = [
        gradient(width, height),
        noise(width, height, 3),
        terminal(width, height, 4),
        terminal(width, height, 5),
    ]
    frames.append(frames[0].copy())
    roundtrip(frames)


def test_small_change_reports_only_its_rect() -> None:
    frame = terminal(640, 480)
    enc, dec = Encoder(640, 480), Decoder(640, 480)
    dec.decode(enc.encode(frame))
    changed = frame.copy()
    changed[100:116, 200:208, :3] = (0, 200, 0)
    fb, rects = dec.decode(enc.encode(changed))
    assert_same(fb, changed)
    assert rects == [Rect(200, 100, 8, 16)]


def test_alpha_only_change_sends_nothing() -> None:
    frame = gradient(100, 80)
    enc, dec = Encoder(100, 80), Decoder(100, 80)
    dec.decode(enc.encode(frame))
    other = frame.copy()
    other[:, :, 3] = 0
    update = enc.encode(other)
    fb, rects = dec.decode(update)
    assert rects == []
    assert_same(fb, frame)


def test_padded_rows_are_read_correctly() -> None:
    base = gradient(120, 50)
    wide = np.zeros((50, 128, 4), dtype=np.uint8)
    wide[:, :120] = base
    view = wide[:, :120]  # a capture buffer with a stride larger than the row
    assert not view.flags.c_contiguous
    enc, dec = Encoder(120, 50), Decoder(120, 50)
    fb, _ = dec.decode(enc.encode(view))
    assert_same(fb, base)


def test_a_desktop_session() -> None:
    win = window(300, 200)
    frames = [desktop(640, 480, win, (50, 60))]
    for step in range(1, 6):
        frames.append(desktop(640, 480, win, (50 + 7 * step, 60 + 3 * step)))
    roundtrip(frames)


def test_keyframe_request_and_starting_mid_stream() -> None:
    width, height = 200, 120
    lines = text_lines(20, 30)
    frames = [terminal(width, height, lines=lines[i : i + 7]) for i in range(8)]
    enc = Encoder(width, height)
    first = Decoder(width, height)
    late = Decoder(width, height)
    for i, frame in enumerate(frames):
        if i == 4:
            enc.request_keyframe()
        update = enc.encode(frame)
        assert_same(first.decode(update)[0], frame)
        if i >= 4:  # joins at the keyframe
            assert_same(late.decode(update)[0], frame)
    assert first.framebuffer is not None


def test_resolution_change_mid_stream() -> None:
    enc, dec = Encoder(160, 100), Decoder(160, 100)
    dec.decode(enc.encode(terminal(160, 100)))
    enc.resize(97, 211)
    bigger = gradient(97, 211)
    fb, rects = dec.decode(enc.encode(bigger))
    assert fb.shape == (211, 97, 4) and dec.framebuffer is fb
    assert_same(fb, bigger)
    assert sum(r.w * r.h for r in rects) == 97 * 211
    changed = bigger.copy()
    changed[5:9, 90:97, :3] = 1
    assert_same(dec.decode(enc.encode(changed))[0], changed)


def test_two_threads_give_identical_pixels_and_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    frames = [terminal(1280, 720, seed=s) for s in (1, 2)] + [noise(1280, 720, 9)]
    one = roundtrip(frames)
    calls: list[int] = []
    real_pack = _native.pack_tiles

    def counting_pack(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real_pack(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_native, "pack_tiles", counting_pack)
    two = roundtrip(frames, threads=2)
    assert one == two
    assert len(calls) == 2 * len(frames)  # every one of these large updates was packed in two halves


def test_explicit_keyframe_resets_and_repaints_everything() -> None:
    frame = gradient(90, 70)
    enc, dec = Encoder(90, 70), Decoder(90, 70)
    dec.decode(enc.encode(frame))
    fb, rects = dec.decode(enc.encode(frame, keyframe=True))
    assert_same(fb, frame)
    assert sum(r.w * r.h for r in rects) == 90 * 70
