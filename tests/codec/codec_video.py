"""A synthetic screen with a video beside text, and the payloads of a genuine lossy stream for the
error-path tests and the fuzzers to mutate and send again through a stream of their own."""

from __future__ import annotations

import numpy as np
import zstandard
from codec_forge import forge
from codec_frames import terminal
from opensupport.codec import Encoder, Quality, _format

W, H = 320, 192
#: where the video plays: not on the tile grid, so its edge tiles hold text too
VX, VY, VW, VH = 100, 40, 160, 112


def landscape(index: int) -> np.ndarray:
    """Picture ``index`` of a video: smooth colour fields panned by a fraction of a pixel a frame, with
    grain, so that every frame differs everywhere and has hundreds of colours a tile."""
    rng = np.random.default_rng(index)
    yy, xx = np.mgrid[0:VH, 0:VW].astype(np.float64)
    x = xx + 1.7 * index
    b = 128 + 90 * np.sin(x / 23.0) * np.cos(yy / 17.0)
    g = 110 + 80 * np.sin((x + yy) / 31.0)
    r = 140 + 70 * np.cos(x / 13.0 - yy / 29.0)
    picture = np.stack([b, g, r], axis=-1) + rng.normal(0, 3, (VH, VW, 3))
    return np.clip(picture, 0, 255).astype(np.uint8)


def screen(index: int, text_seed: int = 1) -> np.ndarray:
    """The screen: a terminal of text with the video's picture ``index`` in it."""
    frame = terminal(W, H, seed=text_seed)
    frame[VY : VY + VH, VX : VX + VW, :3] = landscape(index)
    return frame


def lossy_updates(count: int = 6) -> list[bytes]:
    """``count`` genuine updates of the playing video at BALANCED: a keyframe, then lossy updates."""
    encoder = Encoder(W, H, quality=Quality.BALANCED)
    return [encoder.encode(screen(i)) for i in range(count)]


def payloads(updates: list[bytes]) -> list[bytes]:
    """The decompressed payloads of a stream that starts with a keyframe."""
    out: list[bytes] = []
    dobj = zstandard.ZstdDecompressor().decompressobj()
    for update in updates:
        header, compressed = _format.parse(update)
        if header.keyframe:
            dobj = zstandard.ZstdDecompressor().decompressobj()
        out.append(dobj.decompress(bytes(compressed)) if header.payload_size else b"")
    return out


def restream(raw: list[bytes], versions: list[int] | None = None) -> list[bytes]:
    """Payloads sent again as a stream of our own (the first a keyframe), so that they may be changed."""
    cobj = zstandard.ZstdCompressor(level=1).compressobj()
    out = []
    for index, payload in enumerate(raw):
        version = versions[index] if versions else _format.VERSION
        out.append(
            forge(payload, W, H, keyframe=index == 0, sequence=index + 1, compressor=cobj, version=version)
        )
    return out
