"""The encoder's quality setting (issue 8): the API the bandwidth budget builds on."""

from __future__ import annotations

import numpy as np
import pytest
from opensupport.codec import CodecError, Decoder, Encoder, Quality


def _noise(seed: int, width: int = 200, height: int = 130) -> np.ndarray:
    frame = np.random.default_rng(seed).integers(0, 256, (height, width, 4), dtype=np.uint8)
    frame[:, :, 3] = 255
    return frame


def test_default_quality_is_lossless() -> None:
    assert Encoder(64, 64).quality is Quality.LOSSLESS


def test_quality_is_read_write_and_a_constructor_option() -> None:
    encoder = Encoder(64, 64, quality=Quality.LOW)
    assert encoder.quality is Quality.LOW
    for quality in Quality:
        encoder.quality = quality
        assert encoder.quality is quality


@pytest.mark.parametrize("bad", ["low", 2, None])
def test_quality_must_be_a_quality(bad: object) -> None:
    encoder = Encoder(64, 64)
    with pytest.raises(CodecError, match="Quality"):
        encoder.quality = bad  # type: ignore[assignment]
    assert encoder.quality is Quality.LOSSLESS
    with pytest.raises(CodecError, match="Quality"):
        Encoder(64, 64, quality=bad)  # type: ignore[arg-type]


def test_lossless_quality_is_exact_on_changing_noise() -> None:
    # Noise changing every frame is what the classifier would call video: LOSSLESS still sends it exactly.
    encoder, decoder = Encoder(200, 130), Decoder(200, 130)
    for seed in range(8):
        frame = _noise(seed)
        framebuffer, _ = decoder.decode(encoder.encode(frame))
        assert np.array_equal(framebuffer[:, :, :3], frame[:, :, :3])
    assert encoder.last_lossy_tiles == 0
    assert encoder.pending_refinement == 0
