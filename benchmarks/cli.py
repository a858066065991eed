"""``opensupport bench <name> [args]``: runs one benchmark, ``opensupport.benchmarks.<name>.main(argv)``.

Each benchmark is a module of this package with a ``main(argv) -> int``; it is imported only when asked
for, so that ``bench relay`` needs no PyAV and ``bench codec`` no web server.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence

#: benchmark name -> one-line description (the module is ``opensupport.benchmarks.<name>``)
BENCHMARKS: dict[str, str] = {
    "codec": "the tile codec against x264 and VP9 on a recorded corpus (--corpus DIR [--json])",
    "relay": "relay throughput against socat, concurrent sessions, latency, memory ([--json])",
    "latency": "screen change to viewer framebuffer, key to echo, scroll fps, idle CPU ([--json])",
    "admin": "records search, statistics and Excel export on 1,000,000 records ([--json])",
    "files": "file transfer through the relay on loopback, with input latency ([--size MiB] [--json]; --mib N in memory)",
    "record": "record the codec corpus: real programs under Xvfb (--out DIR [--scenarios ...])",
}


def usage() -> str:
    """The help text listing every benchmark."""
    lines = ["usage: opensupport bench <name> [args...]", "", "benchmarks:"]
    lines += [f"  {name:<8} {text}" for name, text in BENCHMARKS.items()]
    lines += ["", "`opensupport bench <name> --help` shows the arguments of one benchmark."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to ``opensupport.benchmarks.<name>.main``; returns the process exit code.

    An unknown name, or a benchmark whose module is not in this build, prints a message and returns 2.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name not in BENCHMARKS:
        print(f"opensupport bench: unknown benchmark {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module_name = f"opensupport.benchmarks.{name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            print(f"opensupport bench: {name!r} is not available in this build yet", file=sys.stderr)
        else:
            print(
                f"opensupport bench {name}: missing dependency {exc.name!r}; "
                "install opensupport[bench] (`make setup` does)",
                file=sys.stderr,
            )
        return 2
    func: Callable[[list[str]], int] = module.main
    return int(func(rest) or 0)
