"""URL sending and favourites: what the agent may open on the customer's PC, and how it is opened.

URLs: only ``http`` and ``https``, with a host name, no user name or password (``https://bank@evil``
is a classic lure), no whitespace or control characters, at most :data:`MAX_URL_LENGTH` characters. They
open in the customer's default browser (``webbrowser``, which on Linux goes through ``xdg-open`` /
``$BROWSER``).

Favourites (URLs, programs, folders) come from the agent's profile on the server; the host keeps its own
copy and opens an entry **by its id only**: the viewer never sends a command line or a path, so a modified
viewer can start nothing the administrator's list does not hold. A program entry is an argument vector
run without a shell; a folder opens in the desktop's file manager.
"""

from __future__ import annotations

import enum
import os
import shutil
import subprocess
import webbrowser
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from .messages import ToolError

__all__ = [
    "MAX_URL_LENGTH",
    "DesktopOpener",
    "Favourite",
    "FavouriteKind",
    "Favourites",
    "Opener",
    "validate_url",
]

#: Longest URL accepted (browsers cope with more; nobody reads more to a customer).
MAX_URL_LENGTH = 2048
#: Most favourites kept.
MAX_FAVOURITES = 200


def validate_url(text: str) -> str:
    """The URL to open, stripped of surrounding blanks. Raises ToolError with the reason when it is not a
    plain http(s) URL with a host (see the module docstring)."""
    if not isinstance(text, str):
        raise ToolError("the URL must be text")
    url = text.strip()
    if not url:
        raise ToolError("the URL is empty")
    if len(url) > MAX_URL_LENGTH:
        raise ToolError(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise ToolError("the URL contains blanks or control characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise ToolError(f"the URL does not parse: {exc}") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise ToolError("only http and https URLs are opened")
    if not host:
        raise ToolError("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise ToolError("URLs with a user name or password are not opened")
    try:
        host.encode("idna")
    except UnicodeError as exc:
        raise ToolError("the URL's host name is not valid") from exc
    return url


class Opener(Protocol):
    """How the host opens things on the customer's desktop (injected, so tests and platforms differ)."""

    def open_url(self, url: str) -> None:
        """Open a validated URL in the default browser. Raises ToolError if nothing opened it."""

    def open_folder(self, path: str) -> None:
        """Show a folder in the file manager. Raises ToolError if that failed."""

    def run_program(self, argv: Sequence[str]) -> None:
        """Start a program (no shell), detached. Raises ToolError if it could not start."""


class DesktopOpener:
    """The real desktop. URLs: ``xdg-open`` where it exists (Linux desktops; it hands the URL to the
    default browser and returns at once), otherwise ``webbrowser`` (Windows, macOS); ``browser`` names a
    browser registered with ``webbrowser`` to use instead. (``webbrowser`` itself can pick a console
    browser on Linux and wait for it, which would stall the host.) Folders: ``xdg-open``. Programs:
    ``subprocess``, detached. ``env`` replaces the environment of what is started."""

    def __init__(self, browser: str | None = None, *, env: Mapping[str, str] | None = None) -> None:
        self.browser = browser
        self.env = dict(env) if env is not None else None

    def open_url(self, url: str) -> None:
        """See :class:`Opener`."""
        tool = shutil.which("xdg-open")
        if self.browser is None and tool is not None:
            self.run_program([tool, url])
            return
        try:
            controller = webbrowser.get(self.browser)
        except webbrowser.Error as exc:
            raise ToolError(f"no browser to open the URL: {exc}") from exc
        if not controller.open(url, new=2):
            raise ToolError("the browser did not open the URL")

    def open_folder(self, path: str) -> None:
        """See :class:`Opener`."""
        tool = shutil.which("xdg-open")
        if tool is None:
            raise ToolError("xdg-open is not installed: the folder cannot be shown")
        self.run_program([tool, path])

    def run_program(self, argv: Sequence[str]) -> None:
        """See :class:`Opener`."""
        try:
            subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                env=self.env,
            )
        except OSError as exc:
            raise ToolError(f"{argv[0]} could not start: {exc.strerror or exc}") from exc


class FavouriteKind(enum.Enum):
    """What a favourite opens."""

    URL = "url"
    PROGRAM = "program"
    FOLDER = "folder"


@dataclass(frozen=True)
class Favourite:
    """One entry of the agent's favourites: ``target`` is the URL, the folder's path, or the program's
    path; ``args`` are a program's arguments (none for the others)."""

    id: int
    kind: FavouriteKind
    label: str
    target: str
    args: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.id, int) or isinstance(self.id, bool) or self.id < 0:
            raise ToolError("a favourite's id must be a non-negative integer")
        if not self.label or len(self.label) > 200 or not self.target or len(self.target) > 4096:
            raise ToolError("a favourite needs a label (at most 200) and a target (at most 4096 characters)")
        if "\0" in self.target or any("\0" in a for a in self.args):
            raise ToolError("a favourite may not contain NUL characters")
        if self.kind is FavouriteKind.URL:
            validate_url(self.target)
        if self.args and self.kind is not FavouriteKind.PROGRAM:
            raise ToolError("only a program favourite has arguments")

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Favourite:
        """One entry as the server's API gives it: ``{"id", "kind", "label", "target", "args"?}``.
        Raises ToolError if it is malformed."""
        try:
            args = value.get("args") or []
            if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
                raise ToolError("a favourite's args must be a list of strings")
            return cls(int(value["id"]), FavouriteKind(value["kind"]), str(value["label"]), str(value["target"]),
                       tuple(args))  # fmt: skip
        except (KeyError, ValueError, TypeError) as exc:
            raise ToolError(f"malformed favourite: {exc}") from exc

    def to_json(self) -> dict[str, Any]:
        """The entry as JSON (the inverse of :meth:`from_json`)."""
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind.value,
            "label": self.label,
            "target": self.target,
        }
        if self.args:
            out["args"] = list(self.args)
        return out


class Favourites:
    """The favourites list the host got from the server, and opening its entries by id."""

    def __init__(self, entries: Iterable[Favourite], opener: Opener) -> None:
        items = list(entries)[:MAX_FAVOURITES]
        self._by_id = {f.id: f for f in items}
        self.opener = opener

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, favourite_id: int) -> Favourite:
        """The entry with this id. Raises ToolError if the list holds none."""
        entry = self._by_id.get(favourite_id)
        if entry is None:
            raise ToolError(f"favourite {favourite_id} is not in this agent's list")
        return entry

    def open(self, favourite_id: int) -> Favourite:
        """Open the entry ``favourite_id``; returns it. Raises ToolError (unknown id, a folder that does
        not exist, a program that does not start, the opener's failure)."""
        entry = self.get(favourite_id)
        if entry.kind is FavouriteKind.URL:
            self.opener.open_url(validate_url(entry.target))
        elif entry.kind is FavouriteKind.FOLDER:
            path = os.path.expanduser(entry.target)
            if not os.path.isdir(path):
                raise ToolError(f"the folder {entry.target} does not exist on this PC")
            self.opener.open_folder(path)
        else:
            program = shutil.which(os.path.expanduser(entry.target))
            if program is None:
                raise ToolError(f"the program {entry.target} is not installed on this PC")
            self.opener.run_program([program, *entry.args])
        return entry
