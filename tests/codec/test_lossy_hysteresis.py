"""A lossy stream survives one frame that does not look like a picture (a torn grab, a player that draws
its frame in bands), since ending it resends the whole box exact and restarts H.264 with a keyframe; a
region that really turns into text or flat colour still ends the stream and comes out exact."""

from __future__ import annotations

import numpy as np
import pytest
from codec_frames import terminal
from codec_video import VH, VW, VX, VY, H, W, landscape, payloads, screen
from opensupport.codec import Decoder, Encoder, Quality, _native
from opensupport.codec._encoder import UNLIKE_FRAMES

TORN = 5  # the index of the torn frame; the stream runs from frame 1
OP, FLAGS = 4, 13  # offsets of the first op (after the ops size) and of a VIDEO op's flags there


def torn(index: int, rows: int) -> np.ndarray:
    """Picture ``index`` caught while being drawn: its top ``rows`` rows new, the rest still the last one."""
    frame = screen(index)
    frame[VY + rows : VY + VH, VX : VX + VW, :3] = landscape(index - 1)[rows:]
    return frame


@pytest.mark.parametrize("rows", [8, 16, VH // 2])
def test_a_torn_frame_keeps_the_stream(rows: int) -> None:
    encoder, decoder = Encoder(W, H, quality=Quality.BALANCED), Decoder(W, H)
    updates = []
    for index in range(TORN + 4):
        frame = torn(index, rows) if index == TORN else screen(index)
        update = encoder.encode(frame)
        framebuffer, _ = decoder.decode(update)
        updates.append(update)
        # the decoder shows exactly what the encoder mirrors, and the text around the video is exact
        assert np.array_equal(framebuffer[..., :3], encoder._ref[..., :3])
        outside = framebuffer[..., :3].copy(), frame[..., :3].copy()
        for image in outside:
            image[VY : VY + VH, VX : VX + VW] = 0
        assert np.array_equal(*outside)
        if index:
            assert encoder.lossy_rect == (VX, VY, VW, VH)
            assert [name for name, _ in decoder.last_ops][:1] == ["video"]
    raw = payloads(updates)
    # one stream from frame 1 on: no VIDEO op after it starts a new one (no new H.264 keyframe)
    assert raw[1][OP] == _native.OP_VIDEO and raw[1][FLAGS] & _native.VIDEO_NEW_STREAM
    for payload in raw[2:]:
        assert payload[OP] == _native.OP_VIDEO and not payload[FLAGS] & _native.VIDEO_NEW_STREAM
    # and no exact resend of the box (its pixels are grain: about 51 KB exact, about 1 KB as video)
    exact_box = VW * VH * 3
    for update in updates[TORN:]:
        assert len(update) * 8 < exact_box


@pytest.mark.parametrize("content", ["text", "scrolling text", "flat"])
def test_a_video_turned_into_text_or_flat_colour_ends_exact(content: str) -> None:
    encoder, decoder = Encoder(W, H, quality=Quality.BALANCED), Decoder(W, H)
    for index in range(TORN):
        decoder.decode(encoder.encode(screen(index)))
    assert encoder.lossy_rect is not None
    ended = None
    for after in range(UNLIKE_FRAMES + 3):
        frame = screen(TORN)
        if content == "flat":
            frame[VY : VY + VH, VX : VX + VW, :3] = (40, 40, 40)
        else:
            seed = 2 + (after if content == "scrolling text" else 0)
            frame[VY : VY + VH, VX : VX + VW] = terminal(W, H, seed=seed)[VY : VY + VH, VX : VX + VW]
        framebuffer, _ = decoder.decode(encoder.encode(frame))
        assert np.array_equal(framebuffer[..., :3], encoder._ref[..., :3])
        if encoder.lossy_rect is None:
            ended = after if ended is None else ended
            assert np.array_equal(framebuffer[..., :3], frame[..., :3])  # every pixel exact
        else:
            assert ended is None  # once ended, no stream starts again over text or flat colour
    # ended within UNLIKE_FRAMES frames of the change, not on the refinement timer
    assert ended is not None and ended < UNLIKE_FRAMES
