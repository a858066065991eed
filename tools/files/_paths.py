"""Names from the peer, and a download folder that nothing can be written outside of.

The peer's path is never trusted: :func:`safe_parts` turns it into bare names or refuses it, and
:class:`DownloadFolder` writes only through directory descriptors opened with ``O_NOFOLLOW``, so a symlink
planted in the folder (or raced into it) is never followed. Files are created with ``O_EXCL`` under a
temporary name and linked to their final, unique name (``name (1).ext``) only once they are verified:
an existing file is never overwritten, and a failed transfer leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

from ._errors import UnsafeName

__all__ = ["DownloadFolder", "safe_parts", "unique_candidates"]

#: Names Windows reserves for devices (with any extension); refused on every platform, since a file
#: written here may be copied there.
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?$", re.IGNORECASE)
#: Characters no common file system takes in a name (and ':' would be a drive letter or a stream).
_FORBIDDEN = set('<>:"|?*\\/')
#: Longest name in bytes (ext4, NTFS and APFS all stop at 255).
_MAX_NAME_BYTES = 255
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def _check_name(name: str) -> str:
    if not name or name in (".", ".."):
        raise UnsafeName(f"empty or relative component in {name!r}")
    for ch in name:
        if ord(ch) < 0x20 or ord(ch) == 0x7F:
            raise UnsafeName(f"control character in {name!r}")
        if ch in _FORBIDDEN:
            raise UnsafeName(f"character {ch!r} is not allowed in a file name: {name!r}")
    if name[-1] in " .":
        raise UnsafeName(f"a name may not end with a dot or a blank: {name!r}")
    if _RESERVED.match(name):
        raise UnsafeName(f"{name!r} is a reserved device name")
    if len(name.encode("utf-8", "surrogatepass")) > _MAX_NAME_BYTES:
        raise UnsafeName(f"name longer than {_MAX_NAME_BYTES} bytes")
    return name


def safe_parts(path: str) -> list[str]:
    """Split a peer's relative path ('/'-separated) into safe bare names.

    Raises UnsafeName for an absolute path, a drive letter, '..', '.', an empty component, NUL or
    another control character, a backslash, a reserved device name, or an over-long name.
    """
    if not isinstance(path, str) or not path:
        raise UnsafeName("empty path")
    if path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", path):
        raise UnsafeName(f"absolute path {path!r}")
    return [_check_name(part) for part in path.split("/")]


def unique_candidates(name: str) -> Iterator[str]:
    """``name``, then ``stem (1).ext``, ``stem (2).ext``, ... (the extension kept, as file managers do)."""
    yield name
    stem, dot, ext = name.rpartition(".")
    if not stem or not dot:  # no extension, or a dot file such as ".bashrc"
        stem, dot, ext = name, "", ""
    for n in range(1, 10_000):
        yield f"{stem} ({n}){dot}{ext}"
    raise UnsafeName(f"no free name for {name!r}")


class DownloadFolder:
    """A folder that receives files. Every path below it is walked component by component with
    ``O_NOFOLLOW`` directory descriptors: nothing is ever written outside of it.

    Raises OSError if ``root`` cannot be opened as a directory.
    """

    def __init__(self, root: Path) -> None:
        # The user's chosen folder may itself be a link (e.g. ~/Downloads -> /data/dl): resolve it once.
        self.root = Path(os.path.realpath(root))
        self._root_fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))

    def close(self) -> None:
        """Release the folder's descriptor."""
        if self._root_fd >= 0:
            os.close(self._root_fd)
            self._root_fd = -1

    def __enter__(self) -> DownloadFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- directories -----------------------------------------------------------------------------------
    def open_dir(self, parts: list[str], *, create: bool) -> int:
        """A descriptor of the folder ``root/parts...`` (made if ``create``); the caller closes it.

        Raises UnsafeName if a component is a symlink or not a folder, or resolves outside the root.
        """
        fd = os.dup(self._root_fd)
        try:
            for part in parts:
                if create:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(part, 0o755, dir_fd=fd)
                try:
                    child = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except OSError as exc:
                    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                        raise UnsafeName(f"{part!r} is a link or not a folder: not followed") from exc
                    raise
                os.close(fd)
                fd = child
            self._check_inside(fd)
            return fd
        except BaseException:
            os.close(fd)
            raise

    def make_unique_dir(self, parent: list[str], name: str) -> str:
        """Create a new folder ``name`` (or ``name (1)``...) in ``root/parent``; returns the name used.
        An existing folder is never reused, so a batch never mixes with earlier files."""
        fd = self.open_dir(parent, create=True)
        try:
            for candidate in unique_candidates(name):
                try:
                    os.mkdir(candidate, 0o755, dir_fd=fd)
                    return candidate
                except FileExistsError:
                    continue
            raise UnsafeName(f"no free name for {name!r}")  # pragma: no cover - unique_candidates raises
        finally:
            os.close(fd)

    def _check_inside(self, fd: int) -> None:
        # Belt and braces: O_NOFOLLOW on every component already keeps us inside; the kernel's view
        # of where the descriptor points confirms it (Linux only).
        proc = f"/proc/self/fd/{fd}"
        if os.path.exists(proc):
            where = os.path.realpath(proc)
            if where != str(self.root) and not where.startswith(str(self.root) + os.sep):
                raise UnsafeName(f"folder resolves outside the download folder: {where}")

    # -- files -------------------------------------------------------------------------------------------
    def create_temp(self, dir_fd: int) -> tuple[str, int]:
        """A new, empty, private temporary file in ``dir_fd``: (its name, a write descriptor)."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        for _ in range(16):
            name = f".opensupport-{secrets.token_hex(8)}.part"
            try:
                return name, os.open(name, flags, 0o600, dir_fd=dir_fd)
            except FileExistsError:
                continue
        raise OSError(errno.EEXIST, "no free temporary name")

    def publish(self, dir_fd: int, temp: str, name: str) -> str:
        """Give the verified temporary file its final name without replacing anything: ``name``, or the
        first free ``name (n)``. Returns the name used."""
        for candidate in unique_candidates(name):
            try:
                os.link(temp, candidate, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
            except FileExistsError:
                continue
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                    raise
                # A file system without hard links (FAT): check, then rename (a small race window
                # against the local user only; the peer cannot write here).
                try:
                    os.stat(candidate, dir_fd=dir_fd, follow_symlinks=False)
                    continue
                except FileNotFoundError:
                    os.rename(temp, candidate, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
                    return candidate
            os.unlink(temp, dir_fd=dir_fd)
            return candidate
        raise UnsafeName(f"no free name for {name!r}")  # pragma: no cover - unique_candidates raises

    @staticmethod
    def discard(dir_fd: int, temp: str) -> None:
        """Delete a temporary file (a failed or cancelled transfer leaves nothing)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp, dir_fd=dir_fd)
