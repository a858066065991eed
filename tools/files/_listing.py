"""Browsing the customer's folders for 파일 가져오기: one folder listing per request, as control messages.

viewer -> host ``files.list`` ``{"id": n, "path": text ("" = the customer's home), "offset": n}``;
host -> viewer ``files.list.result`` ``{"id", "path" (absolute, the host's syntax), "parent" (or null),
"offset", "next" (offset of the next page, or null), "entries": [{"name", "path", "folder", "size"}]}``.
Pages fit the protocol's control-message bound. Links are listed as neither file nor folder and never
followed (``"link": true``). The host answers only when ``fetch_files`` is on (``host/tools/exchange.py``);
fetching a listed path is an ordinary :class:`~opensupport.protocol.FileRequest`, with consent.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opensupport.protocol import ControlMessage, Event
from opensupport.tools.messages import MAX_JSON_SIZE, ToolRequestError, control, encoded_size, parse
from opensupport.tools.messages import field as get_field

__all__ = ["TOPIC_LIST", "TOPIC_LIST_RESULT", "Listing", "RemoteBrowser", "list_folder", "parse_list_request"]

TOPIC_LIST = "files.list"
TOPIC_LIST_RESULT = "files.list.result"
#: Longest path a listing request may name (characters).
MAX_LIST_PATH = 1024


def parse_list_request(data: bytes) -> tuple[int, str, int]:
    """(id, path, offset) of a ``files.list`` request. Raises ToolRequestError for anything else."""
    payload = parse(data)
    return (
        get_field(payload, "id", int),
        get_field(payload, "path", str, "", limit=MAX_LIST_PATH),
        get_field(payload, "offset", int, 0),
    )


def list_folder(request_id: int, path: str, offset: int = 0) -> ControlMessage:
    """The ``files.list.result`` page for ``path`` from ``offset``: folders first, then files, by name.

    Raises ToolRequestError if the path is not a folder or cannot be read (the message says why).
    """
    if "\0" in path:
        raise ToolRequestError("bad path")
    folder = Path(path) if path else Path.home()
    try:
        folder = folder.resolve(strict=True)
        with os.scandir(folder) as it:
            found = list(it)
    except NotADirectoryError as exc:
        raise ToolRequestError(f"{path} is not a folder") from exc
    except OSError as exc:
        raise ToolRequestError(f"cannot list {path or 'the home folder'}: {exc.strerror}") from exc
    rows = []
    for entry in found:
        try:
            link = entry.is_symlink()
            is_dir = not link and entry.is_dir(follow_symlinks=False)
            size = 0 if is_dir or link else entry.stat(follow_symlinks=False).st_size
        except OSError:
            continue
        row: dict[str, Any] = {"name": entry.name, "path": entry.path, "folder": is_dir, "size": size}
        if link:
            row["link"] = True
        rows.append(row)
    rows.sort(key=lambda r: (not r["folder"], r["name"].lower()))
    parent = str(folder.parent) if folder.parent != folder else None
    page: dict[str, Any] = {
        "id": request_id,
        "path": str(folder),
        "parent": parent,
        "offset": offset,
        "next": None,
        "entries": [],
    }
    budget = MAX_JSON_SIZE - encoded_size(page) - 64
    for index in range(offset, len(rows)):
        cost = encoded_size(rows[index]) + 1
        if cost > budget:
            page["next"] = index
            break
        page["entries"].append(rows[index])
        budget -= cost
    return control(TOPIC_LIST_RESULT, page)


@dataclass
class Listing:
    """One folder of the customer's PC as the viewer last saw it."""

    path: str
    parent: str | None
    entries: list[dict[str, Any]] = field(default_factory=list)
    complete: bool = False


class RemoteBrowser:
    """The viewer's side: ask for a folder, collect its pages, tell the UI."""

    def __init__(self, send: Callable[[Event], None]) -> None:
        self._send = send
        self._next_id = 1
        self._pending: dict[int, str] = {}
        self.listing: Listing | None = None
        self.error = ""
        self._listeners: list[Callable[[], None]] = []

    def add_listener(self, callback: Callable[[], None]) -> None:
        """``callback()`` after each page or error (on the session thread)."""
        self._listeners.append(callback)

    def open(self, path: str = "", offset: int = 0) -> int:
        """Ask for ``path`` ("" = the customer's home folder); returns the request id."""
        request_id = self._next_id
        self._next_id += 1
        self._pending[request_id] = path
        self._send(control(TOPIC_LIST, {"id": request_id, "path": path, "offset": offset}))
        return request_id

    def handle(self, event: Event) -> bool:
        """Take a listing page or a refusal of one; False for other events."""
        if not isinstance(event, ControlMessage):
            return False
        if event.topic == TOPIC_LIST_RESULT:
            try:
                page = parse(event.data)
                request_id = get_field(page, "id", int)
                entries = page.get("entries")
                if request_id not in self._pending or not isinstance(entries, list):
                    return True
                path = get_field(page, "path", str)
                parent = page.get("parent")
                following = get_field(page, "next", int, None) if page.get("next") is not None else None
            except ToolRequestError:
                return True
            self._pending.pop(request_id)
            if self.listing is None or self.listing.path != path or get_field(page, "offset", int, 0) == 0:
                self.listing = Listing(path, parent if isinstance(parent, str) else None)
            self.listing.entries += [
                e for e in entries if isinstance(e, dict) and isinstance(e.get("path"), str)
            ]
            self.listing.complete = following is None
            self.error = ""
            if following is not None:
                self.open(path, following)
            self._notify()
            return True
        if event.topic == "tool.refused":
            try:
                payload = parse(event.data)
            except ToolRequestError:
                return False
            if payload.get("request") == TOPIC_LIST:
                self._pending.pop(payload.get("id"), None)
                self.error = str(payload.get("reason", "refused"))
                self._notify()
                return True
        return False

    def _notify(self) -> None:
        for callback in self._listeners:
            callback()
