"""``opensupport host``: argument checks and clear failures."""

from __future__ import annotations

import pytest
from e2e import HostProcess, XServer
from opensupport.host.cli import main, parse_args
from relay_proc import free_port


def test_parse_args() -> None:
    config, verbose = parse_args(
        [
            "--server",
            "https://support.example.com",
            "--code",
            " k7qm2x-4821 3907 ",
            "--headless",
            "--view-only",
        ]
    )
    assert str(config.code) == "K7QM2X-48213907"
    assert config.headless and config.view_only and not verbose and config.monitor == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--code", "ABC-12345678"], "--server"),
        (["--server", "ftp://x", "--code", "ABC-12345678"], "expected a URL"),
        (["--server", "https://a", "--code", "12345678"], "looks like"),
        (["--server", "https://a"], "--code"),
        (["--server", "https://a", "--code", "ABC-12345678", "--monitor", "-1"], "must not be negative"),
    ],
)
def test_bad_arguments_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.xvfb
def test_an_unreachable_relay_fails_clearly(xserver: XServer) -> None:
    host = HostProcess(xserver, f"http://127.0.0.1:{free_port()}", "ABC7-12345678")
    code, out, err = host.finish()
    assert code == 1
    assert "cannot reach the relay" in err
    assert "12345678" not in out + err


def test_no_display_fails_clearly(tmp_path: object) -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "opensupport", "host", "--headless", "--server", "http://127.0.0.1:9",
         "--code", "ABC7-12345678", "--display", ":4077"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 1
    assert "cannot share this screen" in out.stderr
    assert "Traceback" not in out.stderr
