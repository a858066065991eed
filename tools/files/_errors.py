"""The file-transfer tool's errors (one small hierarchy)."""

from __future__ import annotations

__all__ = ["FileTransferError", "TransferRefused", "UnsafeName"]


class FileTransferError(Exception):
    """Base class of the file-transfer tool's errors."""


class UnsafeName(FileTransferError, ValueError):
    """A peer's path would leave the download folder, follow a link, or is not a portable name."""


class TransferRefused(FileTransferError):
    """The transfer is not allowed: an option is off, or the customer said no."""
