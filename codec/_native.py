"""Checked wrappers over the native kernel: the only module that hands pointers to C.

Every array is checked for dtype, shape, C-contiguous rows with 4-byte pixels and writability before its
pointer reaches C, every size is derived here rather than trusted, and every return code is checked after
the call. ``Any`` from cffi stays inside this module; callers see numpy arrays, ints and bytes.
"""

from __future__ import annotations

import struct
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from opensupport.native import ffi, lib

from ._errors import CodecError

Frame = npt.NDArray[np.uint8]
Rects = npt.NDArray[np.int32]

MAX_DIMENSION: int = int(lib.OS_MAX_DIMENSION)
MAX_PALETTE: int = int(lib.OS_MAX_PALETTE)
_MAX_OP_BYTES: int = int(lib.OS_MAX_OP_BYTES)

_ERRORS: dict[int, str] = {
    int(lib.OS_ERR_ARG): "inconsistent arguments",
    int(lib.OS_ERR_TRUNCATED): "truncated update",
    int(lib.OS_ERR_OPCODE): "malformed op",
    int(lib.OS_ERR_BOUNDS): "rectangle outside the frame",
    int(lib.OS_ERR_LENGTH): "update length mismatch",
    int(lib.OS_ERR_NOMEM): "out of memory",
    int(lib.OS_ERR_CAPACITY): "output buffer too small",
    int(lib.OS_ERR_CACHE): "reference to an empty cache slot",
}

#: Edge of a content-cache tile, slots in the ring, and the op codes (codec/FORMAT.md, "Content cache").
CACHE_TILE: int = int(lib.OS_CACHE_TILE)
CACHE_SLOTS: int = int(lib.OS_CACHE_SLOTS)
OP_FETCH: int = int(lib.OS_OP_FETCH)
OP_STORE: int = int(lib.OS_OP_STORE)


def _check(rc: int, what: str) -> int:
    if rc < 0:
        raise CodecError(f"{what}: {_ERRORS.get(rc, f'kernel error {rc}')}")
    return rc


def check_size(width: int, height: int) -> None:
    """Raise CodecError unless width x height is a frame size the format can carry."""
    if not (1 <= width <= MAX_DIMENSION and 1 <= height <= MAX_DIMENSION):
        raise CodecError(f"frame size {width}x{height} outside 1..{MAX_DIMENSION}")


def check_frame(frame: object, width: int, height: int, *, writable: bool = False) -> Frame:
    """Return ``frame`` as a (height, width, 4) uint8 array whose rows may be padded but whose pixels are
    4 contiguous bytes; raise CodecError otherwise. No copy is made."""
    if not isinstance(frame, np.ndarray):
        raise CodecError(f"frame must be a numpy array, not {type(frame).__name__}")
    if frame.dtype != np.uint8 or frame.shape != (height, width, 4):
        raise CodecError(
            f"frame must be uint8 of shape {(height, width, 4)}, got {frame.dtype} {frame.shape}"
        )
    if frame.strides[2] != 1 or frame.strides[1] != 4 or frame.strides[0] < width * 4:
        raise CodecError(f"frame rows must hold contiguous BGRA pixels, strides {frame.strides}")
    if writable and not frame.flags.writeable:
        raise CodecError("frame is read-only")
    return frame


def _frame_ptr(frame: Frame) -> tuple[Any, int]:
    # The address, not from_buffer: a frame with padded rows (a capture buffer plus its stride) is not one
    # contiguous buffer, yet check_frame has proven that every row the kernel touches lies inside it.
    return ffi.cast("uint8_t *", frame.ctypes.data), int(frame.strides[0])


def tile_grid(width: int, height: int, tile: int) -> tuple[int, int]:
    """Number of tile columns and rows that cover the frame."""
    return (width + tile - 1) // tile, (height + tile - 1) // tile


def compare_tiles(
    frame: Frame, ref: Frame, tile: int, only: npt.NDArray[np.uint8] | None = None
) -> tuple[npt.NDArray[np.uint8], int]:
    """Mark the tiles where ``frame`` differs from ``ref`` (any byte, alpha included). With ``only``, a
    (tiles_y, tiles_x) mask, just those tiles are looked at. Returns the mask and the dirty count."""
    height, width = ref.shape[0], ref.shape[1]
    check_frame(frame, width, height)
    check_frame(ref, width, height)
    tiles_x, tiles_y = tile_grid(width, height, tile)
    dirty = np.empty((tiles_y, tiles_x), dtype=np.uint8)
    only_ptr: Any = ffi.NULL
    if only is not None:
        if only.dtype != np.uint8 or only.shape != dirty.shape or not only.flags.c_contiguous:
            raise CodecError(f"tile mask must be C-contiguous uint8 {dirty.shape}")
        only_ptr = ffi.cast("uint8_t *", ffi.from_buffer(only))
    fp, fs = _frame_ptr(frame)
    rp, rs = _frame_ptr(ref)
    rc = lib.os_compare_tiles(
        fp,
        fs,
        rp,
        rs,
        width,
        height,
        tile,
        only_ptr,
        ffi.cast("uint8_t *", ffi.from_buffer(dirty)),
        dirty.size,
    )
    return dirty, _check(rc, "compare")


def _check_rects(rects: Rects, columns: int) -> Rects:
    if (
        rects.dtype != np.int32
        or rects.ndim != 2
        or rects.shape[1] != columns
        or not rects.flags.c_contiguous
    ):
        raise CodecError(f"rects must be a C-contiguous int32 array of shape (n, {columns})")
    return rects


def _rects_ptr(rects: Rects) -> Any:
    return ffi.cast("int32_t *", ffi.from_buffer(rects)) if rects.size else ffi.NULL


def blit_rects(dst: Frame, src: Frame, rects: Rects) -> None:
    """Copy the (x, y, w, h) ``rects`` from ``src`` into ``dst`` (same size)."""
    height, width = dst.shape[0], dst.shape[1]
    check_frame(dst, width, height, writable=True)
    check_frame(src, width, height)
    _check_rects(rects, 4)
    dp, ds = _frame_ptr(dst)
    sp, ss = _frame_ptr(src)
    _check(lib.os_blit_rects(dp, ds, sp, ss, width, height, _rects_ptr(rects), rects.shape[0]), "blit")


class PackBuffer:
    """Output space for ``pack_tiles``, kept from frame to frame: a fresh multi-megabyte buffer per frame
    would cost a page fault per 4 KiB, more than packing the pixels."""

    def __init__(self) -> None:
        self.ops = np.empty(0, dtype=np.uint8)
        self.data = np.empty(0, dtype=np.uint8)

    def reserve(self, ops: int, data: int) -> None:
        """Make room for ``ops`` op bytes and ``data`` pixel-data bytes."""
        if self.ops.size < ops:
            self.ops = np.empty(max(ops, 2 * self.ops.size), dtype=np.uint8)
        if self.data.size < data:
            self.data = np.empty(max(data, self.data.size + self.data.size // 2), dtype=np.uint8)


def pack_tiles(
    frame: Frame, ref: Frame | None, rects: Rects, max_palette: int, out: PackBuffer, split: int = 64
) -> tuple[memoryview, memoryview]:
    """Pack the (x, y, w, h) ``rects`` of ``frame`` into ops and pixel data. With ``ref`` each rect shrinks
    to the boxes that differ from it, looked at ``split`` pixels at a time (rects with no difference
    vanish), and may be sent as a delta; without (a keyframe) every rect is sent whole. Returns views of (ops, data) inside ``out``, valid until its
    next use."""
    height, width = frame.shape[0], frame.shape[1]
    check_frame(frame, width, height)
    if ref is not None:
        check_frame(ref, width, height)
    _check_rects(rects, 4)
    if not 1 <= max_palette <= MAX_PALETTE:
        raise CodecError(f"max_palette must be in 1..{MAX_PALETTE}")
    if split < 1:
        raise CodecError("split must be positive")
    n = rects.shape[0]
    areas = rects[:, 2].astype(np.int64) * rects[:, 3].astype(np.int64) if n else np.zeros(0, np.int64)
    pieces = int(((rects[:, 2].astype(np.int64) + split - 1) // split).sum()) if n else 0
    out.reserve(pieces * _MAX_OP_BYTES + 1, int(areas.sum()) * 3 + 1)
    ops_len = ffi.new("int64_t *")
    data_len = ffi.new("int64_t *")
    fp, fs = _frame_ptr(frame)
    rp, rs = _frame_ptr(ref) if ref is not None else (ffi.NULL, 0)
    rc = lib.os_pack_tiles(
        fp, fs, rp, rs, width, height, _rects_ptr(rects), n, split, max_palette,
        ffi.cast("uint8_t *", ffi.from_buffer(out.ops)), out.ops.size, ops_len,
        ffi.cast("uint8_t *", ffi.from_buffer(out.data)), out.data.size, data_len,
    )  # fmt: skip
    _check(rc, "pack")
    if not (0 <= ops_len[0] <= out.ops.size and 0 <= data_len[0] <= out.data.size):
        raise CodecError("pack: kernel reported lengths beyond its buffers")
    return out.ops[: ops_len[0]].data, out.data[: data_len[0]].data


#: The most copy ops one update carries; more would be fragments not worth their op bytes.
MAX_MOVES = 64


class MotionScratch:
    """Working memory for ``find_moves``, sized for one frame size and tile, kept across frames."""

    def __init__(self, width: int, height: int, tile: int) -> None:
        self.key = (width, height, tile)
        self.buffer = np.empty(
            _check(int(lib.os_motion_scratch_size(width, height, tile)), "scratch"), np.uint8
        )


def find_moves(
    frame: Frame, ref: Frame, dirty: npt.NDArray[np.uint8], tile: int, scratch: MotionScratch
) -> Rects:
    """Find regions of ``frame`` that equal ``ref`` at an offset (scrolls, dragged windows) among the
    ``dirty`` tiles. Returns an (n, 6) array of (sx, sy, dx, dy, w, h) copies, each verified pixel for
    pixel, in the order they must be applied (none reads pixels an earlier one wrote)."""
    height, width = ref.shape[0], ref.shape[1]
    check_frame(frame, width, height)
    check_frame(ref, width, height)
    tiles_x, tiles_y = tile_grid(width, height, tile)
    if dirty.dtype != np.uint8 or dirty.shape != (tiles_y, tiles_x) or not dirty.flags.c_contiguous:
        raise CodecError(f"tile mask must be C-contiguous uint8 {(tiles_y, tiles_x)}")
    if scratch.key != (width, height, tile):
        raise CodecError(f"motion scratch is for {scratch.key}, not {(width, height, tile)}")
    moves = np.empty((MAX_MOVES, 6), dtype=np.int32)
    fp, fs = _frame_ptr(frame)
    rp, rs = _frame_ptr(ref)
    count = _check(
        lib.os_find_moves(
            fp, fs, rp, rs, width, height, tile, ffi.cast("uint8_t *", ffi.from_buffer(dirty)), dirty.size,
            ffi.cast("int32_t *", ffi.from_buffer(moves)), MAX_MOVES,
            ffi.cast("uint8_t *", ffi.from_buffer(scratch.buffer)), scratch.buffer.size,
        ),
        "find moves",
    )  # fmt: skip
    if count > MAX_MOVES:
        raise CodecError("find moves: kernel reported more moves than asked for")
    return moves[:count]


def copy_rect(fb: Frame, sx: int, sy: int, dx: int, dy: int, w: int, h: int) -> None:
    """Copy the w x h rectangle at (sx, sy) to (dx, dy) inside ``fb``, overlap allowed."""
    height, width = fb.shape[0], fb.shape[1]
    check_frame(fb, width, height, writable=True)
    p, s = _frame_ptr(fb)
    _check(lib.os_copy_rect(p, s, width, height, sx, sy, dx, dy, w, h), "copy")


class TileCache:
    """The content cache's ring: ``slots`` tiles of CACHE_TILE x CACHE_TILE BGRA pixels, how many are
    filled and which one the next STORE writes. The tiles are allocated zeroed, so the operating system
    hands out their pages only as slots are first written: ``slots * 16 KiB`` (32 MiB by default) is the
    bound, not the start."""

    def __init__(self, slots: int = CACHE_SLOTS) -> None:
        if not 1 <= slots <= 65536:
            raise CodecError(f"cache slots must be in 1..65536, not {slots}")
        self.slots = slots
        self.tiles = np.zeros((slots, CACHE_TILE, CACHE_TILE, 4), dtype=np.uint8)
        self.state = np.zeros(2, dtype=np.int32)  # filled, next

    def reset(self) -> None:
        """Empty the ring (a keyframe starts a new stream)."""
        self.state[:] = 0

    @property
    def filled(self) -> int:
        """How many slots hold a tile."""
        return int(self.state[0])

    @property
    def next_slot(self) -> int:
        """The slot the next STORE writes."""
        return int(self.state[1])


def hash_tiles(frame: Frame, only: npt.NDArray[np.uint8] | None = None) -> npt.NDArray[np.uint64]:
    """64-bit hashes of the whole CACHE_TILE tiles of ``frame`` (of those marked in ``only``, a mask on the
    CACHE_TILE grid); 0 for a partial edge tile, an unmarked one and one of a single colour."""
    height, width = frame.shape[0], frame.shape[1]
    check_frame(frame, width, height)
    tiles_x, tiles_y = tile_grid(width, height, CACHE_TILE)
    hashes = np.empty((tiles_y, tiles_x), dtype=np.uint64)
    only_ptr: Any = ffi.NULL
    if only is not None:
        if only.dtype != np.uint8 or only.shape != hashes.shape or not only.flags.c_contiguous:
            raise CodecError(f"tile mask must be C-contiguous uint8 {hashes.shape}")
        only_ptr = ffi.cast("uint8_t *", ffi.from_buffer(only))
    fp, fs = _frame_ptr(frame)
    rc = lib.os_hash_tiles(
        fp, fs, width, height, only_ptr, ffi.cast("uint64_t *", ffi.from_buffer(hashes)), hashes.size
    )
    _check(rc, "hash tiles")
    return hashes


def _cache_jobs(
    frame: Frame, cache: TileCache, jobs: Rects, store: bool, mirror: Frame | None = None
) -> npt.NDArray[np.uint8]:
    height, width = frame.shape[0], frame.shape[1]
    check_frame(frame, width, height)
    _check_rects(jobs, 3)
    mp, ms = (ffi.NULL, 0)
    if mirror is not None:
        check_frame(mirror, width, height, writable=True)
        mp, ms = _frame_ptr(mirror)
    equal = np.zeros(jobs.shape[0], dtype=np.uint8)
    fp, fs = _frame_ptr(frame)
    rc = lib.os_cache_tiles(
        fp, fs, width, height, ffi.cast("uint8_t *", ffi.from_buffer(cache.tiles)), cache.slots,
        _rects_ptr(jobs), jobs.shape[0], int(store), ffi.cast("uint8_t *", ffi.from_buffer(equal)), mp, ms,
    )  # fmt: skip
    _check(rc, "cache")
    return equal


def cache_equal(
    frame: Frame, cache: TileCache, jobs: Rects, mirror: Frame | None = None
) -> npt.NDArray[np.bool_]:
    """For each (x, y, slot) row of ``jobs``: does the frame's tile at (x, y) equal the slot, byte for byte?
    With ``mirror`` (a frame of the same size), each equal tile is also copied there from ``frame``."""
    return _cache_jobs(frame, cache, jobs, store=False, mirror=mirror).astype(np.bool_)


def cache_store(frame: Frame, cache: TileCache, jobs: Rects) -> None:
    """Copy the frame's tile at (x, y) into the slot, for each (x, y, slot) row of ``jobs``."""
    _cache_jobs(frame, cache, jobs, store=True)


def _cache_args(cache: TileCache | None, state: npt.NDArray[np.int32] | None) -> tuple[Any, int, Any]:
    # The pointers returned do not own their arrays: the caller keeps ``cache`` and ``state`` referenced
    # until the kernel call has returned.
    if cache is None:
        return ffi.NULL, 0, ffi.NULL
    state = cache.state if state is None else state
    return (
        ffi.cast("uint8_t *", ffi.from_buffer(cache.tiles)),
        cache.slots,
        ffi.cast("int32_t *", ffi.from_buffer(state)),
    )


class VideoOp(NamedTuple):
    """The VIDEO op of a version 3 update: its rectangle, whether it starts a new H.264 stream, and its
    access unit."""

    x: int
    y: int
    w: int
    h: int
    new_stream: bool
    access_unit: bytes
    picture_hash: int


def _validate(
    width: int,
    height: int,
    payload: bytes,
    cache: TileCache | None,
    state: npt.NDArray[np.int32] | None,
    video: bool,
) -> VideoOp | None:
    # ``state`` is a scratch copy of the ring's state: validation follows the STOREs in it. Named locals
    # keep every array alive across the call (the pointers from _cache_args do not own them).
    buf = ffi.from_buffer(payload)
    tiles, slots, state_ptr = _cache_args(cache, state)
    found = np.full(8, -1, dtype=np.int64)
    video_ptr = ffi.cast("int64_t *", ffi.from_buffer(found)) if video else ffi.NULL
    rc = lib.os_apply_update_v3(
        ffi.NULL, width * 4, width, height, buf, len(payload), 0, ffi.NULL, 0, tiles, slots, state_ptr,
        video_ptr, ffi.NULL, 0,
    )  # fmt: skip
    _check(rc, "update")
    if found[0] < 0:
        return None
    x, y, w, h, flags, offset, size, hash_at = (int(v) for v in found)
    if not (offset >= 0 and 0 < size <= len(payload) - offset and 0 <= hash_at <= len(payload) - 8):
        raise CodecError("update: kernel reported a VIDEO op outside the payload")
    (picture_hash,) = struct.unpack_from("<Q", payload, hash_at)
    return VideoOp(
        x, y, w, h, bool(flags & VIDEO_NEW_STREAM), bytes(payload[offset : offset + size]), picture_hash
    )


def check_update(
    width: int, height: int, payload: bytes, cache: TileCache | None, *, keyframe: bool, video: bool
) -> VideoOp | None:
    """Check a decompressed payload against a width x height frame without writing anything: the cache as
    it stands (``keyframe``: as a keyframe leaves it, empty; None: cache ops are refused), VIDEO ops
    allowed with ``video`` (at most one). Returns the VIDEO op, if any. Raises CodecError."""
    check_size(width, height)
    state = None
    if cache is not None:
        state = np.zeros(2, dtype=np.int32) if keyframe else cache.state.copy()
    return _validate(width, height, payload, cache, state, video)


def validate_update(width: int, height: int, payload: bytes, cache: TileCache | None = None) -> None:
    """Check a decompressed keyframe payload against a width x height frame without any framebuffer
    (a keyframe of a new size is checked before its framebuffer is allocated), with ``cache`` as a
    keyframe leaves it: empty (None: cache ops are refused). Raises CodecError."""
    check_update(width, height, payload, cache, keyframe=True, video=False)


def apply_update(
    fb: Frame,
    payload: bytes,
    *,
    apply: bool,
    cache: TileCache | None = None,
    video: bool = False,
    picture: Frame | None = None,
) -> Rects:
    """Validate a decompressed update payload against ``fb``'s size and, with ``apply``, write it into
    ``fb`` (and the STOREs into ``cache``). Without ``cache`` the cache ops are refused; without ``video``
    the VIDEO op is. Validation reads every field and index first (cache slots included), so a payload
    that passes with apply=False applies without error; only applying changes ``cache``. A VIDEO op is
    applied from ``picture``: its access unit decoded by the caller, a (h, w, 4) BGRA array of the op's
    size. Returns one (op code, x, y, w, h) row per op that changes pixels (no rows when only
    validating)."""
    height, width = fb.shape[0], fb.shape[1]
    check_frame(fb, width, height, writable=apply)
    if not apply:
        check_update(width, height, payload, cache, keyframe=False, video=video)
        return np.empty((0, 5), dtype=np.int32)
    op = check_update(width, height, payload, cache, keyframe=False, video=video) if video else None
    picture_ptr, picture_stride = ffi.NULL, 0
    if op is not None:
        if picture is None:
            raise CodecError("update: a VIDEO op needs its decoded picture")
        check_frame(picture, op.w, op.h)
        picture_ptr, picture_stride = _frame_ptr(picture)
    p, s = _frame_ptr(fb)
    buf = ffi.from_buffer(payload)
    found = np.full(8, -1, dtype=np.int64)
    video_ptr = ffi.cast("int64_t *", ffi.from_buffer(found)) if video else ffi.NULL
    # Every op that reports a rectangle takes at least 7 bytes: this bounds the count without trusting
    # the payload.
    cap = len(payload) // 7 + 1
    ops = np.empty((cap, 5), dtype=np.int32)
    tiles, slots, state = _cache_args(cache, None)
    count = _check(
        lib.os_apply_update_v3(
            p, s, width, height, buf, len(payload), 1, _rects_ptr(ops), cap, tiles, slots, state,
            video_ptr, picture_ptr, picture_stride,
        ),
        "update",
    )  # fmt: skip
    return ops[:count]


# --- adaptive quality (codec/FORMAT.md, "Lossy regions") -------------------------------------------------

OP_VIDEO: int = int(lib.OS_OP_VIDEO)
VIDEO_NEW_STREAM: int = int(lib.OS_VIDEO_NEW_STREAM)
TILE_STILL: int = int(lib.OS_TILE_STILL)
TILE_BUSY: int = int(lib.OS_TILE_BUSY)
TILE_PICTURE: int = int(lib.OS_TILE_PICTURE)


def _tile_mask(mask: npt.NDArray[np.uint8], shape: tuple[int, int], what: str) -> Any:
    if mask.dtype != np.uint8 or mask.shape != shape or not mask.flags.c_contiguous:
        raise CodecError(f"{what} must be C-contiguous uint8 {shape}")
    return ffi.cast("uint8_t *", ffi.from_buffer(mask))


def classify_tiles(
    frame: Frame,
    tile: int,
    changed: npt.NDArray[np.uint8],
    history: npt.NDArray[np.uint8],
    min_changes: int,
    min_colours: int,
    max_flat: float,
) -> tuple[npt.NDArray[np.uint8], int]:
    """Shift each tile's change ``history`` (updated in place) by this frame's ``changed`` mask and classify
    the tiles: TILE_PICTURE when changed in at least ``min_changes`` of the last 8 frames (this one
    included) with at least ``min_colours`` sampled colours and at most ``max_flat`` (0..1) of the samples
    equal to their left neighbour; TILE_BUSY when only changing that often; TILE_STILL otherwise. Returns
    the classes and the number of TILE_PICTURE tiles."""
    height, width = frame.shape[0], frame.shape[1]
    check_frame(frame, width, height)
    tiles_x, tiles_y = tile_grid(width, height, tile)
    changed_ptr = _tile_mask(changed, (tiles_y, tiles_x), "change mask")
    history_ptr = _tile_mask(history, (tiles_y, tiles_x), "tile history")
    if not history.flags.writeable:
        raise CodecError("tile history is read-only")
    classes = np.empty((tiles_y, tiles_x), dtype=np.uint8)
    fp, fs = _frame_ptr(frame)
    rc = lib.os_classify_tiles(
        fp, fs, width, height, tile, changed_ptr, history_ptr, ffi.cast("uint8_t *", ffi.from_buffer(classes)),
        classes.size, min_changes, min_colours, round(max_flat * 256),
    )  # fmt: skip
    return classes, _check(rc, "classify")


def change_box(frame: Frame, ref: Frame, x: int, y: int, w: int, h: int) -> tuple[int, int, int, int] | None:
    """The tight (x, y, w, h) box of the pixels whose B, G or R differ between ``frame`` and ``ref`` inside
    the given rectangle, or None when none differ."""
    height, width = ref.shape[0], ref.shape[1]
    check_frame(frame, width, height)
    check_frame(ref, width, height)
    box = np.zeros(4, dtype=np.int32)
    fp, fs = _frame_ptr(frame)
    rp, rs = _frame_ptr(ref)
    found = _check(
        lib.os_change_box(
            fp, fs, rp, rs, width, height, x, y, w, h, ffi.cast("int32_t *", ffi.from_buffer(box))
        ),
        "change box",
    )
    if not found:
        return None
    bx, by, bw, bh = (int(v) for v in box)
    return bx, by, bw, bh


def bgra_to_i420(frame: Frame, x: int, y: int, w: int, h: int) -> npt.NDArray[np.uint8]:
    """The even-sized w x h rectangle at (x, y) of ``frame`` as I420: a (h * 3 / 2, w) array holding the
    Y plane, then U, then V (each chroma row w / 2 bytes, two to a row of the array)."""
    height, width = frame.shape[0], frame.shape[1]
    check_frame(frame, width, height)
    out = np.empty((h * 3 // 2, w), dtype=np.uint8) if w > 0 and h > 0 else np.empty((0, 0), np.uint8)
    fp, fs = _frame_ptr(frame)
    rc = lib.os_bgra_to_i420(
        fp, fs, width, height, x, y, w, h, ffi.cast("uint8_t *", ffi.from_buffer(out)) if out.size else ffi.NULL,
        out.size,
    )  # fmt: skip
    _check(rc, "BGRA to I420")
    return out


def i420_to_bgra(
    planes: tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]],
    strides: tuple[int, int, int],
    w: int,
    h: int,
    fb: Frame,
    x: int,
    y: int,
) -> int:
    """Convert an I420 picture of w x h (three 1-D plane buffers with their row strides) into ``fb`` at
    (x, y); returns the picture hash of the VIDEO op (FORMAT.md). The kernel checks that each plane holds
    its rows."""
    height, width = fb.shape[0], fb.shape[1]
    check_frame(fb, width, height, writable=True)
    ptrs = []
    for plane in planes:
        if plane.dtype != np.uint8 or plane.ndim != 1 or plane.size == 0:
            raise CodecError("picture planes must be non-empty 1-D uint8 buffers")
        ptrs.append(ffi.cast("uint8_t *", ffi.from_buffer(plane)))
    fp, fs = _frame_ptr(fb)
    picture_hash = ffi.new("uint64_t *")
    rc = lib.os_i420_to_bgra(
        ptrs[0], strides[0], planes[0].size, ptrs[1], strides[1], planes[1].size, ptrs[2], strides[2],
        planes[2].size, w, h, fp, fs, width, height, x, y, picture_hash,
    )  # fmt: skip
    _check(rc, "I420 to BGRA")
    return int(picture_hash[0])
