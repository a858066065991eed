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


@pytest.mark.xvfb
def test_the_applet_with_its_window_ends_the_session_when_terminated(
    xserver: XServer, shared_relay: object, qapp: object
) -> None:
    import subprocess
    import sys

    from e2e import Viewer, assert_screen_matches, wait_until
    from opensupport.protocol import SessionCode

    code = SessionCode.generate()
    url = shared_relay.url  # type: ignore[attr-defined]
    viewer = Viewer(qapp, url, code)
    applet = subprocess.Popen(
        [sys.executable, "-m", "opensupport", "host", "--server", url, "--code", str(code),
         "--display", xserver.display],
        env={**xserver.env(), "QT_QPA_PLATFORM": "offscreen"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_until(lambda: viewer.session.link.established, 30, "the session with the windowed applet")
        assert_screen_matches(xserver, viewer)
        applet.terminate()  # the window closes, as when the customer closes it
        wait_until(viewer.session.ended.is_set, 10, "the viewer's session to end")
        assert viewer.session.end_message == "The customer ended the session: the customer ended the session"
        assert applet.wait(10) == 0
    finally:
        if applet.poll() is None:
            applet.kill()
        applet.communicate()
        viewer.close()
