"""``opensupport viewer``: the agent's viewer window.

With ``--agent ID`` the agent logs in to the server (password from ``--password-file`` or a prompt), the
viewer creates a support session (상담 생성: the server issues the routing id, the viewer makes the secret
half), shows the code and the customer link, and runs the journey of the call
(:mod:`opensupport.viewer.account`, :mod:`opensupport.viewer.ui.journey`). Without ``--agent`` (tests, a
bare relay) the viewer makes a code (or takes ``--code``), connects to the relay at once
(:class:`~opensupport.viewer.session.ViewerSession`) and shows the customer's screen when the host joins.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from opensupport.protocol import SessionCode
from opensupport.viewer.display import ViewMode

__all__ = ["ViewerConfig", "main", "parse_args", "validate_server_url"]

_SCHEMES = ("http", "https", "ws", "wss")


@dataclass(frozen=True)
class ViewerConfig:
    """What the command line asked for."""

    server: str
    code: SessionCode
    view_only: bool
    mode: ViewMode
    offscreen: bool
    #: the agent's login ID (a server-managed session); None: ``code`` is used as is
    agent: str | None = None
    password_file: str | None = None
    #: 상담원 초대: the invitation's code to join (with ``agent``)
    join: SessionCode | None = None


def validate_server_url(url: str) -> str:
    """The server URL, checked: http(s) or ws(s), with a host. Raises ValueError with a message for the user."""
    parts = urlsplit(url.strip())
    if parts.scheme not in _SCHEMES:
        raise ValueError(f"the server URL must start with one of {', '.join(s + '://' for s in _SCHEMES)}")
    if not parts.hostname:
        raise ValueError("the server URL has no host name")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise ValueError(f"bad port in the server URL: {exc}") from None
    if parts.username or parts.password:
        raise ValueError("the server URL must not carry a user name or password")
    return url.strip()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opensupport viewer", description="See and control a customer's screen (the agent's viewer)."
    )
    parser.add_argument(
        "--server",
        required=True,
        metavar="URL",
        help="the OpenSupport server, e.g. https://support.example.com",
    )
    parser.add_argument(
        "--code",
        metavar="CODE",
        help="the session code to use (ABC123-12345678); by default the viewer makes a new one",
    )
    parser.add_argument(
        "--agent", metavar="ID", help="log in to the server as this agent and create a session"
    )
    parser.add_argument(
        "--join", metavar="CODE", help="with --agent: join another agent's session with its invitation code"
    )
    parser.add_argument(
        "--password-file", metavar="FILE", help="the agent's password, first line of FILE (default: prompt)"
    )
    parser.add_argument("--view-only", action="store_true", help="start in view-only mode")
    parser.add_argument(
        "--mode",
        choices=[m.value for m in ViewMode],
        default=ViewMode.FIT.value,
        help="fit to the window or 1:1",
    )
    parser.add_argument(
        "--offscreen", action="store_true", help="render without a display (QT_QPA_PLATFORM=offscreen)"
    )
    return parser


def parse_args(argv: Sequence[str]) -> ViewerConfig:
    """Parse the command line. Raises SystemExit(2) with a message on bad arguments (argparse's way)."""
    parser = _parser()
    args = parser.parse_args(list(argv))
    try:
        server = validate_server_url(args.server)
    except ValueError as exc:
        parser.error(f"--server: {exc}")
    if args.agent is not None and args.code is not None:
        parser.error("--code and --agent exclude each other: with --agent the server issues the code")
    if args.agent is not None and not (
        1 <= len(args.agent) <= 12 and args.agent.isascii() and args.agent.isalnum()
    ):
        parser.error("--agent: an agent ID is 1 to 12 letters and digits")
    join: SessionCode | None = None
    if args.join is not None:
        if args.agent is None:
            parser.error("--join needs --agent: only a logged-in agent joins an invitation")
        try:
            join = SessionCode.parse(args.join)
        except ValueError as exc:
            parser.error(f"--join: {exc}")
    if args.code is None:
        # The viewer makes the code (the secret half never leaves the two ends) and shows it to the agent.
        code = SessionCode.generate()
    else:
        try:
            code = SessionCode.parse(args.code)
        except ValueError as exc:
            parser.error(f"--code: {exc}")
    return ViewerConfig(
        server, code, args.view_only, ViewMode(args.mode), args.offscreen, args.agent, args.password_file,
        join,
    )  # fmt: skip


def read_password(config: ViewerConfig) -> str:
    """The agent's password: the first line of ``--password-file``, else asked on the terminal.

    Raises OSError when the file cannot be read, ValueError when it is empty.
    """
    if config.password_file is not None:
        with open(config.password_file, encoding="utf-8") as f:
            password = f.readline().rstrip("\r\n")
    else:
        import getpass

        password = getpass.getpass(f"Password of agent {config.agent}: ")
    if not password:
        raise ValueError("the password is empty")
    return password


def waiting_message(config: ViewerConfig) -> str:
    """The status text while no session is connected."""
    return f"Connecting to {config.server} — code {config.code}"


def main(argv: Sequence[str]) -> int:
    """Run the viewer until its window is closed; returns the exit code (2 for bad arguments)."""
    try:
        config = parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if config.offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    # Qt is imported only now, so that argument errors need no display and no Qt.
    from opensupport.viewer.display import DisplayModel
    from opensupport.viewer.session import ViewerSession
    from opensupport.viewer.ui.window import ViewerWindow
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["opensupport viewer"])
    window = ViewerWindow(DisplayModel(mode=config.mode, view_only=config.view_only))
    window.set_view_only(config.view_only)
    if config.agent is not None and config.join is not None:
        from opensupport.viewer.invite import run_guest

        return run_guest(app, window, config)
    if config.agent is not None:
        from opensupport.viewer.ui.journey import run_agent

        return run_agent(app, window, config)
    window.set_connection_status(waiting_message(config))
    window.show_session_code(str(config.code))
    window.show()
    # The secret half of the code stays off the terminal (and any log collecting it).
    print(
        f"opensupport viewer: waiting for a connection to {config.server} (routing id {config.code.routing_id})",
        flush=True,
    )
    sys.stdout.flush()
    session = ViewerSession(window, config.server, config.code)
    session.start()
    try:
        return int(app.exec())
    finally:
        session.stop("the agent closed the viewer")
