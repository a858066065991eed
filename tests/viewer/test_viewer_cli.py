"""``opensupport viewer``: argument checks, and a real process that opens its window offscreen."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys

import pytest
from opensupport.viewer.cli import main, parse_args, validate_server_url, waiting_message
from opensupport.viewer.display import ViewMode


def test_parse_args_normalises_the_code() -> None:
    config = parse_args(
        ["--server", "https://support.example.com", "--code", " k7qm2x-4821 3907 ", "--mode", "1:1"]
    )
    assert config.server == "https://support.example.com"
    assert str(config.code) == "K7QM2X-48213907"
    assert config.mode is ViewMode.ONE_TO_ONE and not config.view_only and not config.offscreen
    assert waiting_message(config) == "Connecting to https://support.example.com — code K7QM2X-48213907"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--code", "ABC-12345678"], "--server"),
        (["--server", "ftp://x", "--code", "ABC-12345678"], "must start with"),
        (["--server", "https://", "--code", "ABC-12345678"], "no host"),
        (["--server", "https://a:99999", "--code", "ABC-12345678"], "bad port"),
        (["--server", "https://u:p@a", "--code", "ABC-12345678"], "user name"),
        (["--server", "https://a", "--code", "12345678"], "looks like"),
        (["--server", "https://a", "--code", "ABC-123"], "8 digits"),
        (["--server", "https://a", "--code", "A B-12345678"], "routing id"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_without_a_code_the_viewer_makes_one() -> None:
    first = parse_args(["--server", "https://a"]).code
    second = parse_args(["--server", "https://a"]).code
    assert re.fullmatch(r"[A-Z0-9]{6}-[0-9]{8}", str(first)) and first != second


def test_validate_server_url_accepts_websocket_urls() -> None:
    assert validate_server_url(" wss://relay.example.com:8443/ ") == "wss://relay.example.com:8443/"


def test_the_viewer_process_opens_its_window_and_waits() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "opensupport",
            "viewer",
            "--server",
            "http://127.0.0.1:9",
            "--code",
            "ABC7-12345678",
            "--offscreen",
            "--view-only",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        assert ready, "the viewer printed nothing in 30 s"
        line = proc.stdout.readline()
        assert (
            line.strip()
            == "opensupport viewer: waiting for a connection to http://127.0.0.1:9 (routing id ABC7)"
        )
        assert proc.poll() is None  # still running its event loop
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert "12345678" not in line + err
    assert "Traceback" not in err
