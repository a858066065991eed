"""The decoder: updates in, an exact framebuffer out, and nothing changed by bytes it refuses.

Theory of operation. An update is checked in three stages, each before anything is changed: the header
and CRC (``_format.parse``), then decompression into a bounded scratch buffer, then a full validation
pass of the payload by the kernel against the frame size. Only then is the payload applied to the
framebuffer. The zstd stream context is the one piece of state that decompression itself advances; an
update refused after that point leaves the framebuffer as it was but the stream out of step, so the
decoder then refuses everything but a keyframe (``needs_keyframe``) until one arrives.
"""

from __future__ import annotations

from typing import IO, NamedTuple, cast

import numpy as np
import zstandard

from . import _format, _native
from ._encoder import WINDOW_LOG
from ._errors import CodecError
from ._native import Frame
from ._video import VideoDecoder


class Rect(NamedTuple):
    """A changed rectangle of the framebuffer, in pixels."""

    x: int
    y: int
    w: int
    h: int


#: Names of the op codes (codec/FORMAT.md), for ``Decoder.last_ops``.
OP_NAMES = {1: "copy", 2: "solid", 3: "raw", 4: "delta", 5: "palette", 6: "cache", 8: "video"}


#: Largest frame a decoder accepts by default (two 8K screens side by side); ``Decoder(max_pixels=...)``.
DEFAULT_MAX_PIXELS = 2 * 7680 * 4320


class _BoundedSink:
    """Collects decompressed output and stops the decompressor as soon as it exceeds ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.chunks: list[bytes] = []
        self.size = 0

    def write(self, chunk: bytes) -> int:
        self.size += len(chunk)
        if self.size > self.limit:
            raise CodecError(f"update decompresses beyond its declared {self.limit} bytes")
        self.chunks.append(bytes(chunk))
        return len(chunk)


class Decoder:
    """Decodes updates into a framebuffer it owns: a (height, width, 4) uint8 BGRA array, alpha 255.

    A new decoder (and one that refused an update it had begun decompressing) needs a keyframe first;
    ``needs_keyframe`` says so, and the caller should then ask the encoder for one. A keyframe larger
    than ``max_pixels`` is refused before any memory is sized from it. Raises CodecError for a size
    outside 1..65535 or beyond ``max_pixels``."""

    def __init__(self, width: int, height: int, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        _native.check_size(width, height)
        self._max_pixels = max_pixels
        self._check_pixels(width, height)
        self._fb: Frame = self._blank(width, height)
        self._sequence = 0
        self._needs_keyframe = True
        self._writer: zstandard.ZstdDecompressionWriter | None = None
        self._sink = _BoundedSink(0)
        self._last_ops: list[tuple[str, Rect]] = []
        # The content cache (FORMAT.md): at most CACHE_SLOTS tiles of 16 KiB, 32 MiB; its pages are only
        # taken from the system as slots are first written.
        self._cache = _native.TileCache()
        # The H.264 stream of the VIDEO ops (version 3), from its first access unit to the next keyframe.
        self._video: VideoDecoder | None = None

    def _check_pixels(self, width: int, height: int) -> None:
        if width * height > self._max_pixels:
            raise CodecError(
                f"frame size {width}x{height} exceeds this decoder's limit of {self._max_pixels} pixels"
            )

    @staticmethod
    def _blank(width: int, height: int) -> Frame:
        fb = np.zeros((height, width, 4), dtype=np.uint8)
        fb[:, :, 3] = 255
        return fb

    @property
    def framebuffer(self) -> Frame:
        """The current frame. A keyframe of another size replaces this array with a new one."""
        return self._fb

    @property
    def needs_keyframe(self) -> bool:
        """True until a keyframe is decoded, and again after an update that desynchronised the stream."""
        return self._needs_keyframe

    @property
    def last_ops(self) -> list[tuple[str, Rect]]:
        """The ops of the last update decoded, in order: (``"copy"``, ``"solid"``, ``"raw"``, ``"delta"``
        ``"palette"`` or ``"cache"``, destination rectangle). For diagnostics, benchmarks and tests."""
        return list(self._last_ops)

    @property
    def width(self) -> int:
        """Width of the framebuffer in pixels."""
        return int(self._fb.shape[1])

    @property
    def height(self) -> int:
        """Height of the framebuffer in pixels."""
        return int(self._fb.shape[0])

    def decode(self, data: bytes) -> tuple[Frame, list[Rect]]:
        """Apply one update; return the framebuffer and the rectangles that changed.

        Raises CodecError for any bytes that are not a valid next update, leaving the framebuffer
        byte-identical: a foreign or truncated message, another version, a CRC mismatch, a frame size
        that differs without a keyframe, a missed update (sequence gap), a decompression bomb, or an op
        outside the frame. See the class docstring for when a keyframe is needed afterwards."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise CodecError(f"update must be bytes, not {type(data).__name__}")
        header, compressed = _format.parse(bytes(data))
        if header.keyframe:
            return self._decode_keyframe(header, compressed)
        if self._needs_keyframe:
            raise CodecError("decoder needs a keyframe")
        if (header.width, header.height) != (self.width, self.height):
            # only an encoder we are out of step with (its keyframe lost) sends this
            self._needs_keyframe = True
            raise CodecError(
                f"update for {header.width}x{header.height} without a keyframe (frame is {self.width}x{self.height})"
            )
        if header.sequence != (self._sequence + 1) & 0xFFFFFFFF:
            self._needs_keyframe = True
            raise CodecError(f"update {header.sequence} does not follow {self._sequence}: an update was lost")
        if header.payload_size == 0:
            self._sequence = header.sequence
            self._last_ops = []
            return self._fb, []
        assert self._writer is not None  # a keyframe was decoded, so there is a stream
        cache = self._cache if header.version >= 2 else None
        video = header.version >= 3
        picture: Frame | None = None
        try:
            payload = self._decompress(self._writer, self._sink, compressed, header.payload_size)
            op = _native.check_update(self.width, self.height, payload, cache, keyframe=False, video=video)
            if op is not None:
                picture = self._decode_video(op)
        except CodecError:
            self._needs_keyframe = True
            raise
        ops = _native.apply_update(self._fb, payload, apply=True, cache=cache, video=video, picture=picture)
        self._sequence = header.sequence
        return self._fb, self._record(ops)

    def _decode_keyframe(self, header: _format.Header, compressed: memoryview) -> tuple[Frame, list[Rect]]:
        # The header's size is the sender's word: bounded before any memory is sized from it.
        self._check_pixels(header.width, header.height)
        same_size = (header.width, header.height) == (self.width, self.height)
        sink = _BoundedSink(0)
        writer = zstandard.ZstdDecompressor(max_window_size=1 << WINDOW_LOG).stream_writer(
            cast(IO[bytes], sink),
            write_size=_format.max_payload(header.width, header.height) + 1,
            write_return_read=True,
        )
        # Refusals here leave the running stream untouched: a decoder that was in step stays in step.
        payload = self._decompress(writer, sink, compressed, header.payload_size)
        cache = self._cache if header.version >= 2 else None
        _native.validate_update(header.width, header.height, payload, cache)
        if same_size:
            target = self._fb
            target[:, :, :3] = 0
            target[:, :, 3] = 255
        else:
            target = self._blank(header.width, header.height)
        # Validated: from here nothing can fail, so the old stream and its cache can be let go.
        self._cache.reset()
        self._video = None  # a keyframe carries no VIDEO op; the next one starts a new stream
        ops = _native.apply_update(target, payload, apply=True, cache=cache)
        self._fb = target
        self._writer, self._sink = writer, sink
        self._sequence = header.sequence
        self._needs_keyframe = False
        return self._fb, self._record(ops)

    def _decode_video(self, op: _native.VideoOp) -> Frame:
        """The picture of a validated VIDEO op, decoded before anything is written: a corrupt access unit
        leaves the framebuffer as it was (and the H.264 stream out of step, like the zstd stream)."""
        if op.new_stream:
            self._video = None
            self._video = VideoDecoder(op.w, op.h)
        elif self._video is None or (self._video.width, self._video.height) != (op.w, op.h):
            raise CodecError(f"VIDEO op of {op.w}x{op.h} continues no H.264 stream of that size")
        picture: Frame = np.empty((op.h, op.w, 4), dtype=np.uint8)
        try:
            if self._video.decode_into(op.access_unit, picture, 0, 0) != op.picture_hash:
                raise CodecError("VIDEO picture differs from the encoder's (corrupt access unit)")
        except CodecError:
            self._video = None
            raise
        return picture

    def _record(self, ops: _native.Rects) -> list[Rect]:
        self._last_ops = [(OP_NAMES[kind], Rect(x, y, w, h)) for kind, x, y, w, h in ops.tolist()]
        return [rect for _, rect in self._last_ops]

    @staticmethod
    def _decompress(
        writer: zstandard.ZstdDecompressionWriter, sink: _BoundedSink, compressed: memoryview, size: int
    ) -> bytes:
        # The writer's output buffer is one byte larger than any legal payload of this frame size (it is
        # allocated lazily, so only the pages used cost anything). That matters twice: the writer stops
        # handing out output when its input is consumed, so a buffer that ended exactly full would hold
        # back the payload's tail; and a bomb is cut off after at most that one buffer.
        sink.limit, sink.size, sink.chunks = size, 0, []
        try:
            writer.write(compressed)
        except zstandard.ZstdError as exc:
            raise CodecError(f"corrupted compressed payload: {exc}") from None
        if sink.size != size:
            raise CodecError(f"payload decompressed to {sink.size} bytes, header declared {size}")
        return b"".join(sink.chunks)
