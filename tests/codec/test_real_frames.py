"""Round trips on real screen content: crops of frames captured from Xvfb at 1920x1080 (xterm 200x60,
anti-aliased 10 pt Monospace): typing a command, `less` scrolling three lines a frame, and the xterm
dragged with `xdotool windowmove` over the black root window. Stored in data/xterm_frames.npz
(B, G, R, A uint8 arrays of shape (frames, 160, 320, 4))."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from opensupport.codec import Decoder, Encoder

FRAMES = np.load(Path(__file__).parent / "data" / "xterm_frames.npz")


@pytest.mark.parametrize("scenario", ["typing", "pager", "drag"])
@pytest.mark.parametrize("threads", [1, 2])
def test_real_frames_round_trip(scenario: str, threads: int) -> None:
    frames = [np.ascontiguousarray(f) for f in FRAMES[scenario]]
    height, width = frames[0].shape[:2]
    enc, dec = Encoder(width, height, threads=threads), Decoder(width, height)
    kinds: list[str] = []
    for frame in frames:
        fb, _ = dec.decode(enc.encode(frame))
        assert np.array_equal(fb[:, :, :3], frame[:, :, :3])
        kinds += [kind for kind, _ in dec.last_ops]
    if scenario in ("pager", "drag"):
        assert "copy" in kinds


def test_real_frames_in_reverse_and_mixed() -> None:
    frames = [np.ascontiguousarray(f) for name in ("drag", "pager", "typing") for f in FRAMES[name][::-1]]
    height, width = frames[0].shape[:2]
    enc, dec = Encoder(width, height), Decoder(width, height)
    for frame in frames:
        fb, _ = dec.decode(enc.encode(frame))
        assert np.array_equal(fb[:, :, :3], frame[:, :, :3])
