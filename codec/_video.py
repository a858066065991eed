"""The VIDEO op's H.264 streams (codec/FORMAT.md, "Lossy regions"), through PyAV.

The encoder side runs libx264 (preset ultrafast, tune zerolatency: one access unit out per picture in,
no frame held back) on a rectangle of the screen, and decodes its own output exactly as the decoder will,
so that its mirror of the decoder's framebuffer stays exact: H.264 decoding is bit-exact by its standard
and the I420 -> BGRA conversion is the kernel's own integer one (``native/yuv.c``).

PyAV is imported only when a lossy stream is used, so a LOSSLESS encoder and a decoder of lossless
streams need no PyAV. It comes with the ``host`` and ``viewer`` extras.
"""

from __future__ import annotations

import importlib
from fractions import Fraction
from typing import Any

import numpy as np

from . import _native
from ._errors import CodecError
from ._native import Frame


def _av() -> Any:
    try:
        return importlib.import_module("av")
    except ImportError as exc:
        raise CodecError(
            f"lossy (version 3) updates need PyAV: install opensupport[host] or [viewer] ({exc})"
        ) from None


#: Options of the lossy stream's x264: the fastest preset and no frame held back (a remote screen cannot
#: wait for later frames), one thread (the caller owns the core budget); ``crf`` comes from the quality.
X264_OPTIONS = {"preset": "ultrafast", "tune": "zerolatency", "threads": "1"}


class VideoDecoder:
    """One H.264 stream of w x h pictures, decoded into a BGRA frame at a rectangle."""

    def __init__(self, width: int, height: int) -> None:
        av = _av()
        self.width, self.height = width, height
        self._context: Any = av.CodecContext.create("h264", "r")
        self._context.thread_count = 1
        # An access unit whose parameter sets declare a much larger picture than the op is refused by
        # FFmpeg before it sizes any memory from them (a hostile peer cannot make the viewer allocate
        # gigabytes). FFmpeg checks its padded buffer size: a margin of 64 pixels each way covers that.
        self._context.options = {"max_pixels": str((width + 64) * (height + 64))}
        self._error: type[BaseException] = av.error.FFmpegError

    def decode_into(self, access_unit: bytes, fb: Frame, x: int, y: int) -> int:
        """Decode one access unit, which must give exactly one w x h I420 picture, into ``fb`` at (x, y);
        returns the picture hash (FORMAT.md). Raises CodecError for anything else (the stream has then
        advanced: the caller resyncs)."""
        av = _av()
        try:
            pictures = self._context.decode(av.Packet(access_unit))
        except (self._error, ValueError, MemoryError) as exc:
            raise CodecError(f"corrupt VIDEO access unit: {exc}") from None
        if len(pictures) != 1:
            raise CodecError(f"VIDEO access unit gave {len(pictures)} pictures, not one")
        picture = pictures[0]
        if (picture.width, picture.height) != (self.width, self.height) or picture.format.name != "yuv420p":
            raise CodecError(
                f"VIDEO picture is {picture.format.name} {picture.width}x{picture.height}, "
                f"the op says yuv420p {self.width}x{self.height}"
            )
        planes = tuple(np.frombuffer(plane, dtype=np.uint8) for plane in picture.planes[:3])
        strides = tuple(int(plane.line_size) for plane in picture.planes[:3])
        return _native.i420_to_bgra(planes, strides, self.width, self.height, fb, x, y)  # type: ignore[arg-type]


class VideoEncoder:
    """One H.264 stream of a fixed (x, y, w, h) rectangle of the screen, with its own decoder."""

    def __init__(self, rect: tuple[int, int, int, int], crf: int) -> None:
        av = _av()
        self.rect = rect
        self.crf = crf
        _, _, w, h = rect
        context: Any = av.CodecContext.create("libx264", "w")
        context.width, context.height = w, h
        context.pix_fmt = "yuv420p"
        context.time_base = Fraction(1, 25)
        context.thread_count = 1
        context.options = {**X264_OPTIONS, "crf": str(crf)}
        self._context = context
        self._frame_type: Any = av.VideoFrame
        self._decoder = VideoDecoder(w, h)
        self._pts = 0

    def encode(self, frame: Frame, mirror: Frame) -> tuple[bytes, int]:
        """Encode the rectangle of ``frame`` into one access unit, and write what a decoder makes of it
        into ``mirror`` at the rectangle. Returns the access unit and its picture hash."""
        x, y, w, h = self.rect
        picture = self._frame_type.from_ndarray(_native.bgra_to_i420(frame, x, y, w, h), format="yuv420p")
        picture.pts = self._pts
        self._pts += 1
        access_unit = b"".join(bytes(packet) for packet in self._context.encode(picture))
        if not access_unit:
            raise CodecError("x264 held a picture back (it must run with tune zerolatency)")
        return access_unit, self._decoder.decode_into(access_unit, mirror, x, y)
