import subprocess
import sys

from opensupport import __version__
from opensupport.cli import main


def test_version_and_usage(capsys) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == __version__
    assert main(["no-such-command"]) == 2
    assert "unknown command 'no-such-command'" in capsys.readouterr().err


def test_python_dash_m_is_the_same_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "opensupport", "--help"], capture_output=True, text=True, check=True
    )
    assert "bench" in out.stdout and "server" in out.stdout
