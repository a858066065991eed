"""``opensupport host --server URL --code CODE [--headless] [--view-only]``: the customer's applet.

With a window (the default) the customer sees who is connected, a banner while the screen is shared, and
pause and stop buttons; closing the window ends the session at once. ``--headless`` runs the same session
without any window (tests, unattended machines): it prints its status lines and ends the session on
SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from opensupport.protocol import AuthenticationFailed, SessionCode

from .reboot import RebootError, comeback_argv, restart_args

__all__ = ["HostConfig", "describe_end", "main", "parse_args"]

_SCHEMES = ("http", "https", "ws", "wss")


@dataclass(frozen=True)
class HostConfig:
    """What the command line asked for."""

    server: str
    code: SessionCode
    headless: bool
    view_only: bool
    display: str | None
    monitor: int
    #: The agent's options for a host without a server: the manual's defaults with these applied.
    options: dict[str, bool] = field(default_factory=dict)
    #: Where the agent's files land (None: ~/Downloads).
    download_dir: Path | None = None
    #: File-transfer consent: None asks the customer (window), True/False answers (headless: False).
    file_consent: bool | None = None
    #: The customer's name as reported to the server (a server-managed session).
    customer_name: str | None = None
    #: 접속전 고객동의 answered without asking (headless); None asks (window) or refuses (headless).
    consent: bool | None = None
    #: The answer to the agent's request for control when 접속시 자동제어모드 is off (headless).
    grant_control: bool = False
    #: The satisfaction survey answered without asking (headless): score 1..5 (None: no answer), comment.
    satisfaction: int | None = None
    comment: str = ""
    #: 상담원 초대전 고객동의 answered without asking (headless; no answer refuses: nobody is there to agree).
    invite_consent: bool = False
    #: 부분공유: share only this region (X, Y, W, H in root coordinates) or this window.
    share_region: tuple[int, int, int, int] | None = None
    share_window: int | None = None
    #: 자동 재접속: the command that restarts the PC (None: the platform's) and the command line stored for
    #: the start after the restart (this one without its session code).
    reboot_command: tuple[str, ...] | None = None
    restart_args: tuple[str, ...] = ()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opensupport host", description="Share this screen with a support agent (the customer's applet)."
    )
    parser.add_argument("--server", required=True, metavar="URL", help="the OpenSupport server URL")
    parser.add_argument("--code", required=True, metavar="CODE", help="the session code the agent read out")
    parser.add_argument("--headless", action="store_true", help="no window (tests, unattended use)")
    parser.add_argument("--view-only", action="store_true", help="the agent may look but not control")
    parser.add_argument("--display", metavar="DISPLAY", help="the X display to share (default: $DISPLAY)")
    parser.add_argument("--monitor", type=int, default=0, metavar="N", help="the monitor shared first")
    parser.add_argument(
        "--options",
        metavar="JSON",
        default="{}",
        help="the agent's options as a JSON object over the manual's defaults, e.g. '{\"drawing\": false}'",
    )
    parser.add_argument("--download-dir", type=Path, metavar="DIR", help="where received files land")
    parser.add_argument(
        "--file-consent",
        choices=("ask", "yes", "no"),
        default="ask",
        help="answer to file-transfer consent (headless cannot ask: 'ask' refuses there)",
    )
    parser.add_argument("--customer-name", metavar="NAME", help="your name, shown to the agent")
    parser.add_argument(
        "--consent", choices=("yes", "no"), help="answer to 'accept the connection?' (headless; else refused)"
    )
    parser.add_argument(
        "--grant-control", choices=("yes", "no"), default="no", help="answer to the agent's control request"
    )
    parser.add_argument(
        "--invite-consent",
        choices=("yes", "no"),
        default="no",
        help="answer to 'let the agent invite another agent?' when the agent's options ask (headless)",
    )
    parser.add_argument("--satisfaction", type=int, choices=range(1, 6), metavar="1-5", help="survey score")
    parser.add_argument("--comment", default="", metavar="TEXT", help="survey comment")
    share = parser.add_mutually_exclusive_group()
    share.add_argument("--share-region", metavar="X,Y,W,H", help="share only this region of the screen")
    share.add_argument(
        "--share-window", metavar="WINDOW_ID", help="share only this window (X id, e.g. 0x1e00007)"
    )
    parser.add_argument(
        "--reboot-command",
        metavar="CMD",
        help="how to restart this PC when the agent asks (default: systemctl reboot)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    return parser


def parse_args(argv: Sequence[str]) -> tuple[HostConfig, bool]:
    """Parse the command line (and whether to log verbosely). Raises SystemExit(2) on bad arguments."""
    parser = _parser()
    args = parser.parse_args(list(argv))
    parts = urlsplit(args.server.strip())
    if parts.scheme not in _SCHEMES or not parts.hostname:
        parser.error("--server: expected a URL such as https://support.example.com")
    try:
        code = SessionCode.parse(args.code)
    except ValueError as exc:
        parser.error(f"--code: {exc}")
    if args.monitor < 0:
        parser.error("--monitor must not be negative")
    try:
        options = json.loads(args.options)
    except ValueError as exc:
        parser.error(f"--options: not JSON: {exc}")
    if not isinstance(options, dict) or not all(isinstance(v, bool) for v in options.values()):
        parser.error("--options: expected a JSON object of true/false values")
    consent = {"ask": None, "yes": True, "no": False}[args.file_consent]
    region: tuple[int, int, int, int] | None = None
    if args.share_region is not None:
        try:
            x, y, w, h = (int(v) for v in args.share_region.split(","))
        except ValueError:
            parser.error("--share-region: expected X,Y,W,H, four integers")
        if w <= 0 or h <= 0 or x < 0 or y < 0:
            parser.error("--share-region: the position must not be negative and the size must be positive")
        region = (x, y, w, h)
    window: int | None = None
    if args.share_window is not None:
        try:
            window = int(args.share_window, 0)
        except ValueError:
            parser.error("--share-window: expected a window id such as 0x1e00007")
        if window <= 0:
            parser.error("--share-window: expected a window id such as 0x1e00007")
    config = HostConfig(
        args.server.strip(),
        code,
        args.headless,
        args.view_only,
        args.display,
        args.monitor,
        options=options,
        download_dir=args.download_dir,
        file_consent=False if consent is None and args.headless else consent,
        customer_name=(args.customer_name or "").strip()[:100] or None,
        consent=None if args.consent is None else args.consent == "yes",
        grant_control=args.grant_control == "yes",
        satisfaction=args.satisfaction,
        comment=args.comment[:2000],
        share_region=region,
        share_window=window,
        reboot_command=tuple(shlex.split(args.reboot_command)) if args.reboot_command else None,
        restart_args=tuple(restart_args(argv)),
        invite_consent=args.invite_consent == "yes",
    )
    return config, args.verbose


def describe_end(result: object, error: BaseException | None) -> tuple[str, int]:
    """The line printed when the session ends, and the exit code (0 clean end, 1 failure)."""
    if error is None:
        closed_by_peer = getattr(result, "closed_by_peer", False)
        reason = getattr(result, "reason", "")
        who = "the agent" if closed_by_peer else "you"
        return f"session ended by {who}: {reason}", 0
    if isinstance(error, AuthenticationFailed):
        return "the session code is wrong: check it with the agent and try again", 1
    return f"session failed: {error}", 1


def main(argv: Sequence[str]) -> int:
    """Run the applet until the session ends; returns the exit code."""
    try:
        # ``--comeback FILE`` (the autostart entry after a restart): the stored command line, consumed.
        argv = comeback_argv(argv)
    except RebootError as exc:
        print(f"opensupport host: {exc}", file=sys.stderr, flush=True)
        return 1
    try:
        config, verbose = parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )
    if not config.headless:
        from opensupport.host.ui.window import run_window

        return run_window(config)
    return _run_headless(config)


def _run_headless(config: HostConfig) -> int:
    from opensupport.host.capture import Rect
    from opensupport.host.errors import HostError
    from opensupport.host.policy import policy_from_options
    from opensupport.host.reboot import HostReboot
    from opensupport.host.server_api import headless_journey, server_manages_sessions
    from opensupport.host.session import HostSession, HostStatus

    last: list[str] = []
    # A server-managed session: nothing is shared before the server's options are known (server_api.py).
    journey = headless_journey(config) if server_manages_sessions(config.server) else None

    def show(status: HostStatus) -> None:
        line = f"{status.link.value}: {status.detail}" + (" [sharing]" if status.sharing else "")
        if status.paused:
            line += " [paused]"
        if not last or last[-1] != line:
            last.append(line)
            print(f"opensupport host: {line}", flush=True)

    try:
        session = HostSession(
            config.server,
            config.code,
            display=config.display,
            view_only=config.view_only,
            monitor=config.monitor,
            on_status=show,
            policy=None if journey is not None else policy_from_options(config.options),
            download_dir=config.download_dir,
            consent_answer=config.file_consent,
            on_notice=lambda text: print(f"opensupport host: {text}", flush=True),
            on_event=journey.on_event if journey is not None else None,
            share_area=Rect(*config.share_region) if config.share_region is not None else None,
            share_window=config.share_window,
            reboot=HostReboot(
                config.restart_args,
                command=config.reboot_command,
                ask_restart=lambda text: print(f"opensupport host: {text}", flush=True),
                on_notice=lambda text: print(f"opensupport host: {text}", flush=True),
            ),
        )
    except HostError as exc:  # 부분공유 switched off by the agent's options
        print(f"opensupport host: cannot share this screen: {exc}", file=sys.stderr, flush=True)
        return 1
    if journey is not None:  # the server's options rule: nothing is shared before they are known
        journey.attach(session)
    stop_requested = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            session.start()
        except HostError as exc:
            print(f"opensupport host: cannot share this screen: {exc}", file=sys.stderr, flush=True)
            return 1
        # The routing id only: the secret half of the code stays off the terminal and out of logs.
        print(f"opensupport host: joining session {config.code.routing_id} at {config.server}", flush=True)
        while not session.wait(0.1):
            if stop_requested.is_set():
                session.stop()
                break
        session.close()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if journey is not None:
        journey.finish(dropped=session.error is not None)
        if journey.outcome == "refused":
            print("opensupport host: you refused the connection", flush=True)
            return 0
    message, code = describe_end(session.result, session.error)
    print(f"opensupport host: {message}", file=sys.stderr if code else sys.stdout, flush=True)
    return code
