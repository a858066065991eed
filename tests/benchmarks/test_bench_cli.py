"""`opensupport bench`: the dispatcher lists every benchmark and refuses unknown names clearly."""

import subprocess
import sys

from opensupport.benchmarks import cli


def test_help_lists_every_benchmark(capsys) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("codec", "relay", "latency", "admin", "record"):
        assert f"  {name} " in out


def test_no_arguments_prints_usage_and_fails(capsys) -> None:
    assert cli.main([]) == 2
    assert "usage: opensupport bench" in capsys.readouterr().out


def test_unknown_benchmark_is_a_clear_error(capsys) -> None:
    assert cli.main(["nonsense"]) == 2
    assert "unknown benchmark 'nonsense'" in capsys.readouterr().err


def test_dispatches_to_the_module_main(capsys) -> None:
    # `record --help` reaches opensupport.benchmarks.record.main, whose argparse exits with 0.
    out = subprocess.run(
        [sys.executable, "-m", "opensupport", "bench", "record", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "--scenarios" in out.stdout and "terminal-typing" in out.stdout
