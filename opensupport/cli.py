"""The ``opensupport`` command: one entry point, a subcommand per role.

Each subcommand lives in the package of its role and parses its own arguments, so that the customer's
applet never imports the server and the server never imports Qt.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence

from opensupport import __version__

#: subcommand -> (module, function, one-line help, the extra that provides it)
SUBCOMMANDS: dict[str, tuple[str, str, str, str]] = {
    "bench": (
        "opensupport.benchmarks.cli",
        "main",
        "run a benchmark (codec, relay, latency, admin)",
        "bench",
    ),
    "server": ("opensupport.server.cli", "main", "run the relay, admin web and API", "server"),
    "host": ("opensupport.host.cli", "main", "run the customer's host applet", "host"),
    "viewer": ("opensupport.viewer.cli", "main", "run the agent's viewer", "viewer"),
}


def _usage() -> str:
    lines = [f"usage: opensupport <command> [args...]   (version {__version__})", "", "commands:"]
    lines += [f"  {name:<8} {help_}" for name, (_, _, help_, _) in SUBCOMMANDS.items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to a subcommand; returns the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(_usage())
        return 0 if args else 2
    if args[0] == "--version":
        print(__version__)
        return 0
    name, rest = args[0], args[1:]
    if name not in SUBCOMMANDS:
        print(f"opensupport: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module_name, func_name, _, extra = SUBCOMMANDS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (exc.name == module_name or module_name.startswith(exc.name + ".")):
            print(
                f"opensupport {name}: not available in this build ({module_name} is missing)", file=sys.stderr
            )
        else:
            print(
                f"opensupport {name}: missing dependency {exc.name!r}; install opensupport[{extra}]",
                file=sys.stderr,
            )
        return 2
    func: Callable[[list[str]], int] = getattr(module, func_name)
    return int(func(rest) or 0)
