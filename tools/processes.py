"""The customer's processes (psutil): a sortable, paged list, and ending one with SIGTERM.

CPU percentages need two samples: :class:`ProcessTable` keeps the ``psutil.Process`` objects between
calls, so the second list shows the CPU used since the first (the first shows 0.0).

Ending a process is refused for PID 1 (and PIDs below it), for the host applet itself and its parent,
for a process of another user unless the host allows it, and when the PID now belongs to another process
than the one the agent saw (``create_time`` differs: PIDs are reused). The process gets SIGTERM (the
platform's polite termination), and the answer says whether it ended within the wait.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psutil

from .messages import MAX_JSON_SIZE, ToolError, encoded_size

__all__ = ["SORT_KEYS", "EndResult", "ProcessTable"]

#: How the list can be sorted.
SORT_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "cpu": lambda p: (p["cpu"], p["pid"]),
    "memory": lambda p: (p["rss"], p["pid"]),
    "pid": lambda p: p["pid"],
    "name": lambda p: (p["name"].lower(), p["pid"]),
    "user": lambda p: (p["user"] or "", p["pid"]),
}
#: Most rows in one answer (the JSON bound cuts earlier if names are long).
MAX_ROWS = 200
#: Longest process name sent.
MAX_NAME = 64
#: Seconds to wait for a process to end after SIGTERM.
END_WAIT = 3.0


@dataclass(frozen=True)
class EndResult:
    """What became of a process the agent ended."""

    pid: int
    ended: bool
    error: str | None = None
    #: the exit status when the host could read it (its own children: minus the signal number)
    exit_code: int | None = None


class ProcessTable:
    """The processes of this machine, for the agent (see the module docstring)."""

    def __init__(self, *, allow_other_users: bool = False) -> None:
        self.allow_other_users = allow_other_users
        self._known: dict[int, psutil.Process] = {}

    def snapshot(self) -> list[dict[str, Any]]:
        """Every process as ``{"pid", "name", "user", "cpu", "rss", "create_time"}``."""
        rows = []
        seen: dict[int, psutil.Process] = {}
        for proc in psutil.process_iter():
            known = self._known.get(proc.pid)
            if known is not None and known.is_running():
                proc = known  # keeps the previous CPU sample
            try:
                with proc.oneshot():
                    rows.append(
                        {
                            "pid": proc.pid,
                            "name": proc.name()[:MAX_NAME],
                            "user": _username(proc),
                            "cpu": round(proc.cpu_percent(None), 1),
                            "rss": proc.memory_info().rss,
                            "create_time": proc.create_time(),
                        }
                    )
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            seen[proc.pid] = proc
        self._known = seen
        return rows

    def page(
        self, sort: str = "cpu", descending: bool = True, offset: int = 0, limit: int = MAX_ROWS
    ) -> dict[str, Any]:
        """One page of the sorted list: ``{"total", "offset", "sort", "descending", "processes"}``, at
        most MAX_ROWS rows and small enough for a control message. Raises ToolError for an unknown sort."""
        if sort not in SORT_KEYS:
            raise ToolError(f"unknown sort key {sort!r}")
        rows = sorted(self.snapshot(), key=SORT_KEYS[sort], reverse=descending)
        chosen = rows[offset : offset + min(limit, MAX_ROWS)]
        answer = {"total": len(rows), "offset": offset, "sort": sort, "descending": descending}
        budget = MAX_JSON_SIZE - 128 - encoded_size(answer)
        kept: list[dict[str, Any]] = []
        for row in chosen:
            budget -= encoded_size(row) + 1
            if budget < 0:
                break
            kept.append(row)
        return {**answer, "processes": kept}

    def end(self, pid: int, create_time: float | None) -> EndResult:
        """Send SIGTERM to ``pid`` and wait up to END_WAIT for it to end. Refusals are EndResults with an
        error (nothing is sent); so are processes that vanished already."""
        if pid <= 1:
            return EndResult(pid, False, "PID 1 and below are never ended")
        if pid in (os.getpid(), os.getppid()):
            return EndResult(pid, False, "the support applet does not end itself")
        try:
            proc = psutil.Process(pid)
            if create_time is not None and abs(proc.create_time() - create_time) > 0.01:
                return EndResult(pid, False, "the PID now belongs to another process")
            if not self.allow_other_users and _username(proc) != _username(psutil.Process(os.getpid())):
                return EndResult(pid, False, "the process belongs to another user")
            proc.terminate()
            try:
                code = proc.wait(END_WAIT)
            except psutil.TimeoutExpired:
                return EndResult(pid, False, f"still running {END_WAIT:g} s after SIGTERM")
        except psutil.NoSuchProcess:
            return EndResult(pid, False, "no such process")
        except psutil.AccessDenied:
            return EndResult(pid, False, "permission denied")
        return EndResult(pid, True, exit_code=code if isinstance(code, int) else None)


def _username(proc: psutil.Process) -> str | None:
    try:
        return str(proc.username())
    except (KeyError, psutil.AccessDenied):
        uids = proc.uids()
        return str(uids.real)
