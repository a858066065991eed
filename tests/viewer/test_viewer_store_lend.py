"""The decode worker shows the codec decoder's own framebuffer (no copy per update), exactly."""

from __future__ import annotations

import numpy as np
import pytest
from opensupport.codec import Decoder, Encoder
from opensupport.viewer.decode import DecodeFailure, DecodeWorker, FrameUpdate
from opensupport.viewer.display import FrameStore

W, H = 320, 200


def _frames() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    base = rng.integers(0, 256, (H * 2, W, 4), dtype=np.uint8)
    base[..., 3] = 255
    # a page scrolling up by 6 rows a frame, then a small edit
    frames = [np.ascontiguousarray(base[6 * i : 6 * i + H]) for i in range(8)]
    edited = frames[-1].copy()
    edited[50:60, 100:140, :3] = (10, 200, 30)
    return [*frames, edited]


def test_the_store_shows_the_decoders_framebuffer_exactly_and_without_a_copy() -> None:
    store = FrameStore()
    updates: list[FrameUpdate] = []
    failures: list[DecodeFailure] = []
    encoder, decoder = Encoder(W, H), Decoder(W, H)
    worker = DecodeWorker(decoder, store, updates.append, failures.append)
    worker.start()
    frames = _frames()
    for i, frame in enumerate(frames):
        worker.submit(encoder.encode(frame, keyframe=i == 0))
    worker.submit(b"not an update")  # refused: the picture stays the last good one
    worker.stop()
    assert [u.sequence for u in updates] == list(range(1, len(frames) + 1))
    assert len(failures) == 1 and failures[0].sequence == len(frames) + 1
    assert store.buffer is decoder.framebuffer  # lent, not copied
    snap = store.snapshot()
    assert snap is not None and np.array_equal(snap[..., :3], frames[-1][..., :3])


def test_apply_after_a_lent_buffer_never_writes_into_the_decoders_picture() -> None:
    store = FrameStore()
    encoder, decoder = Encoder(W, H), Decoder(W, H)
    frame = _frames()[0]
    store.decode(lambda: decoder.decode(encoder.encode(frame, keyframe=True)))
    assert store.buffer is decoder.framebuffer
    other = np.zeros((H, W, 4), np.uint8)
    store.apply(other, [(0, 0, 10, 10)])
    assert store.buffer is not decoder.framebuffer
    assert np.array_equal(decoder.framebuffer[..., :3], frame[..., :3])
    assert not store.buffer[:10, :10, :3].any() and np.array_equal(
        store.buffer[10:, :, :3], frame[10:, :, :3]
    )


def test_a_refused_update_leaves_the_store_as_it_was() -> None:
    store = FrameStore()
    encoder, decoder = Encoder(W, H), Decoder(W, H)
    frame = _frames()[0]
    store.decode(lambda: decoder.decode(encoder.encode(frame, keyframe=True)))
    generation = store.generation
    with pytest.raises(Exception, match=r"\w"):
        store.decode(lambda: decoder.decode(b"garbage"))
    assert store.generation == generation and store.buffer is decoder.framebuffer
    assert np.array_equal(store.buffer[..., :3], frame[..., :3])
