"""자동 재접속 / 수동 재부팅: the agent restarts the customer's PC and the host comes back into the session.

How one restart goes (messages in :mod:`opensupport.tools.reboot`):

1. The viewer asks (``reboot.request``) with a *comeback code*, a fresh session code made for this restart.
   The host refuses (``tool.refused``) unless the agent's options allow 자동 재접속 (``auto_reconnect``)
   and this platform can restart and start the host again (Linux here).
2. The host writes a **credential** (the comeback code, the host's own command line, an expiry) to a file
   only this user can read (0600, in a 0700 folder under ``$XDG_CONFIG_HOME/opensupport/comeback``), and
   an **XDG autostart entry** (``$XDG_CONFIG_HOME/autostart/opensupport-comeback.desktop``) whose Exec
   line starts the host with ``--comeback <credential file>``. The secret is never on the Exec line (the
   entry is an ordinary file other tools read, and a command line is visible to every user in ``ps``).
3. 수동 재부팅 off: the host runs the restart command (``systemctl reboot``; injectable for tests and other
   set-ups). On: the customer is asked to restart the PC now; the host does nothing more.
4. On the next start, ``opensupport host --comeback FILE`` checks the file (a regular file of this user,
   mode 0600), deletes it and the entry *before* using them (one use, even if the start fails), refuses an
   expired one, and runs the host with the stored command line and the comeback code.

Why a code stored 0600 is good enough here: whoever can read it is this user or root, who control this
desktop anyway. What it would let them do is pose as this host to the waiting viewer, for one handshake,
within :data:`~opensupport.tools.reboot.COMEBACK_TIMEOUT`; it opens nothing on the customer's PC. The
session's own code is not reused.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import secrets
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from opensupport.protocol import ControlMessage, Event, SessionCode
from opensupport.tools.messages import TOPIC_REFUSED, ToolError, control, field, parse
from opensupport.tools.reboot import (
    COMEBACK_TIMEOUT,
    MODE_AUTO,
    MODE_MANUAL,
    TOPIC_REBOOT,
    TOPIC_REBOOT_RESULT,
)

from .errors import HostError
from .policy import MANUAL_REBOOT, Feature, HostPolicy

__all__ = [
    "ENTRY_NAME",
    "Comeback",
    "HostReboot",
    "RebootError",
    "autostart_entry",
    "comeback_argv",
    "consume_comeback",
    "default_reboot_command",
    "restart_args",
    "write_comeback",
]

log = logging.getLogger(__name__)

#: The autostart entry's file name (one restart at a time: a new one replaces it).
ENTRY_NAME = "opensupport-comeback.desktop"
#: Largest credential read (a command line and a code: a few hundred bytes).
MAX_CREDENTIAL_SIZE = 64 * 1024
#: Seconds the restart command may take to accept the restart.
COMMAND_TIMEOUT = 60.0
#: Characters that may not appear in an Exec argument we write (the Desktop Entry escaping of backslashes
#: differs between readers; control characters would end the line).
_UNSAFE_EXEC = frozenset("\\\n\r\t\0")


class RebootError(HostError):
    """The restart cannot be prepared, or the stored comeback cannot be used (the message says why)."""


@dataclass(frozen=True)
class Comeback:
    """A consumed credential: the host's command line to run again, with the comeback code."""

    code: SessionCode
    args: list[str]
    expires_at: float


def _config_home() -> Path:
    configured = os.environ.get("XDG_CONFIG_HOME", "")
    # The spec: a relative path is invalid and must be ignored.
    return Path(configured) if configured and os.path.isabs(configured) else Path.home() / ".config"


def autostart_entry() -> Path:
    """Where the autostart entry of a restart lives."""
    return _config_home() / "autostart" / ENTRY_NAME


def _credential_dir() -> Path:
    return _config_home() / "opensupport" / "comeback"


def default_reboot_command() -> list[str] | None:
    """The platform's restart command (None where the host cannot restart it yet)."""
    if platform.system() == "Linux":
        return ["systemctl", "reboot"]
    return None


def _exec_quote(arg: str) -> str:
    """One argument of a Desktop Entry Exec line (the spec's quoting; ``%`` doubled)."""
    if any(c in _UNSAFE_EXEC for c in arg) or not arg.isprintable():
        raise RebootError(f"cannot write {arg!r} into an autostart entry")
    arg = arg.replace("%", "%%")
    if arg and not any(c in arg for c in " \"'><~|&;$*?#()`="):
        return arg
    return '"' + "".join("\\" + c if c in '"`$' else c for c in arg) + '"'


def restart_args(argv: Sequence[str]) -> list[str]:
    """The host's command line to store for the restart: without the session code (the comeback code
    replaces it) and without ``--comeback``."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("--code", "--comeback"):
            skip = True
            continue
        if arg.startswith(("--code=", "--comeback=")):
            continue
        out.append(arg)
    return out


def _remove_previous() -> None:
    entry = autostart_entry()
    with contextlib.suppress(OSError):
        target = _entry_credential(entry)
        if target is not None:
            target.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        entry.unlink(missing_ok=True)


def _entry_credential(entry: Path) -> Path | None:
    """The credential an existing entry of ours names (None if there is none)."""
    try:
        text = entry.read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("X-OpenSupport-Credential="):
            return Path(line.split("=", 1)[1])
    return None


def write_comeback(
    code: SessionCode,
    args: Sequence[str],
    *,
    timeout: float = COMEBACK_TIMEOUT,
    python: str = sys.executable,
) -> tuple[Path, Path]:
    """Store the credential and the autostart entry; returns (credential, entry). Raises RebootError."""
    _remove_previous()
    folder = _credential_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(folder, 0o700)
        credential = folder / f"{secrets.token_hex(16)}.json"
        body = {
            "version": 1,
            "code": f"{code.routing_id}-{code.secret}",
            "args": list(args),
            "expires_at": time.time() + timeout,
        }
        fd = os.open(credential, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(body, out)
        command = [python, "-m", "opensupport", "host", "--comeback", str(credential)]
        exec_line = " ".join(_exec_quote(a) for a in command)
        entry = autostart_entry()
        entry.parent.mkdir(parents=True, exist_ok=True)
        text = (
            "[Desktop Entry]\n"
            "Type=Application\n"
            "Name=OpenSupport: back to the support session\n"
            "Name[ko]=OpenSupport: 원격지원 재접속\n"
            f"Exec={exec_line}\n"
            "NoDisplay=true\n"
            "X-GNOME-Autostart-enabled=true\n"
            f"X-OpenSupport-Credential={credential}\n"
        )
        partial = entry.with_name(f".{ENTRY_NAME}.{os.getpid()}")
        partial.write_text(text, encoding="utf-8")
        os.chmod(partial, 0o600)
        partial.replace(entry)
    except OSError as exc:
        _remove_previous()
        raise RebootError(f"the autostart entry could not be written: {exc}") from None
    return credential, entry


def consume_comeback(path: Path, *, now: float | None = None) -> Comeback:
    """Read and delete the credential ``path`` and the autostart entry (one use). Raises RebootError when
    the file is not this user's private regular file, is malformed or has expired."""
    try:
        # No link followed, and the checks made on what was opened (nothing swapped in between).
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if os.path.islink(path):
            raise RebootError(f"{path} is not a private file of this user: refused") from None
        raise RebootError(f"the restart credential is not there: {exc}") from None
    with os.fdopen(fd, "rb") as stream:
        info = os.fstat(stream.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
            raise RebootError(f"{path} is not a private file of this user: refused")
        try:
            text = stream.read(MAX_CREDENTIAL_SIZE + 1).decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            text = ""
            log.warning("the restart credential cannot be read: %s", exc)
        finally:
            # One use: gone whether or not it works.
            with contextlib.suppress(OSError):
                path.unlink()
            entry = autostart_entry()
            if _entry_credential(entry) == path:
                with contextlib.suppress(OSError):
                    entry.unlink()
    if len(text) > MAX_CREDENTIAL_SIZE:
        raise RebootError("the restart credential is malformed: too large")
    try:
        body = json.loads(text)
        code = SessionCode.parse(str(body["code"]))
        args = body["args"]
        expires_at = float(body["expires_at"])
    except (ValueError, KeyError, TypeError) as exc:
        raise RebootError(f"the restart credential is malformed: {exc}") from None
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args) or restart_args(args) != args:
        raise RebootError("the restart credential is malformed: bad command line")
    if (time.time() if now is None else now) > expires_at:
        raise RebootError("the restart credential has expired: start the session again with a new code")
    return Comeback(code, args, expires_at)


def comeback_argv(argv: Sequence[str]) -> list[str]:
    """``--comeback FILE``: the stored command line with the comeback code (the credential is consumed);
    any other command line as it is. Raises RebootError."""
    argv = list(argv)
    if "--comeback" not in argv:
        return argv
    index = argv.index("--comeback")
    if index + 1 >= len(argv) or len(argv) != 2:
        raise RebootError("--comeback takes exactly one file and nothing else")
    comeback = consume_comeback(Path(argv[index + 1]))
    return [*comeback.args, "--code", f"{comeback.code.routing_id}-{comeback.code.secret}"]


class HostReboot:
    """The host's side of a restart (see the module docstring).

    ``args`` is the host's command line to run again after the restart (None: this host cannot be
    restarted, e.g. a session embedded in a test or another program: requests are refused). ``command``
    restarts the PC (None: the platform's). ``ask_restart(text)`` asks the customer to restart
    (수동 재부팅: a dialog, or a line headless); ``on_notice(text)`` tells the customer what happens.
    """

    def __init__(
        self,
        args: Sequence[str] | None,
        *,
        command: Sequence[str] | None = None,
        ask_restart: Callable[[str], None] | None = None,
        on_notice: Callable[[str], None] | None = None,
        timeout: float = COMEBACK_TIMEOUT,
    ) -> None:
        self.args = list(args) if args is not None else None
        self.command = list(command) if command is not None else default_reboot_command()
        self._ask_restart = ask_restart
        self._on_notice = on_notice
        self.timeout = timeout
        self._busy = threading.Lock()
        #: (credential, entry) of the last restart prepared
        self.written: tuple[Path, Path] | None = None

    def handle(self, event: Event, policy: HostPolicy | None, send: Callable[[Event], object]) -> bool:
        """Take a ``reboot.request`` (on the link's thread); False for any other event. The answer is
        sent through ``send`` (thread-safe) from a worker: the restart command may take a while."""
        if not (isinstance(event, ControlMessage) and event.topic == TOPIC_REBOOT):
            return False
        request_id: int | None = None
        try:
            payload = parse(event.data)
            request_id = field(payload, "id", int)
            try:
                code = SessionCode.parse(field(payload, "code", str, limit=64))
            except ValueError as exc:
                raise ToolError(f"bad comeback code: {exc}") from None
            self._check(policy)
        except (ToolError, RebootError) as exc:
            log.info("restart refused: %s", exc)
            send(self._refusal(request_id, str(exc)))
            return True
        if not self._busy.acquire(blocking=False):
            send(self._refusal(request_id, "a restart is already being prepared"))
            return True
        manual = policy is not None and policy.flag(MANUAL_REBOOT)
        threading.Thread(
            target=self._restart,
            args=(request_id, code, manual, send),
            name="opensupport-reboot",
            daemon=True,
        ).start()
        return True

    def _check(self, policy: HostPolicy | None) -> None:
        if policy is None:
            raise RebootError("the agent's options are not known yet")
        if not policy.allows(Feature.AUTO_RECONNECT):
            raise RebootError("auto reconnect is switched off for this agent")
        if self.args is None:
            raise RebootError(
                "this host was not started from its command line: it cannot come back by itself"
            )
        if platform.system() != "Linux":
            raise RebootError(f"restarting {platform.system()} is not supported yet")
        if self.command is None and not policy.flag(MANUAL_REBOOT):
            raise RebootError("no restart command on this platform")

    @staticmethod
    def _refusal(request_id: int | None, reason: str) -> Event:
        payload = {"id": request_id, "request": TOPIC_REBOOT, "tool": Feature.AUTO_RECONNECT.value}
        return control(TOPIC_REFUSED, {**payload, "reason": reason})

    def _restart(
        self, request_id: int, code: SessionCode, manual: bool, send: Callable[[Event], object]
    ) -> None:
        try:
            answer = {
                "id": request_id,
                "mode": MODE_MANUAL if manual else MODE_AUTO,
                "expires_in": self.timeout,
            }
            assert self.args is not None
            try:
                self.written = write_comeback(code, self.args, timeout=self.timeout)
            except RebootError as exc:
                send(control(TOPIC_REBOOT_RESULT, {**answer, "error": str(exc)}))
                return
            if manual:
                self._tell(
                    self._ask_restart,
                    "Please restart this PC now. The support session comes back by itself after the restart.",
                )
                send(control(TOPIC_REBOOT_RESULT, {**answer, "error": None}))
                return
            self._tell(
                self._on_notice,
                "The agent is restarting this PC. The support session comes back after the restart.",
            )
            error = self._run_command()
            if error is not None:
                self.discard()
            send(control(TOPIC_REBOOT_RESULT, {**answer, "error": error}))
        finally:
            self._busy.release()

    def _run_command(self) -> str | None:
        assert self.command is not None
        try:
            done = subprocess.run(
                self.command,
                capture_output=True,
                timeout=COMMAND_TIMEOUT,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"the restart command failed: {exc}"
        if done.returncode != 0:
            detail = done.stderr.decode("utf-8", "replace").strip()[:200]
            return f"the restart command failed (exit {done.returncode}): {detail}"
        return None

    def discard(self) -> None:
        """Remove the credential and the entry of the last restart prepared (it did not happen)."""
        written, self.written = self.written, None
        if written is not None:
            for path in written:
                with contextlib.suppress(OSError):
                    path.unlink()

    @staticmethod
    def _tell(listener: Callable[[str], None] | None, text: str) -> None:
        if listener is not None:
            try:
                listener(text)
            except Exception:
                log.exception("telling the customer failed")
