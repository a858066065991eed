"""``python -m opensupport.server.relay``: run only the relay (used by the tests and the benchmark).

``opensupport server --relay-only`` is the command for operators; this entry point also exposes every
``RelayConfig`` field as ``--set name=value``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys

from .config import RelayConfig
from .transports import serve_relay_only


def parse_config(pairs: list[str]) -> RelayConfig:
    """Build a RelayConfig from ``name=value`` strings; raises ValueError for unknown names or values."""
    fields = {f.name: f for f in dataclasses.fields(RelayConfig)}
    values: dict[str, object] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or name not in fields:
            raise ValueError(f"unknown relay setting {pair!r}; known: {', '.join(sorted(fields))}")
        default = getattr(RelayConfig(), name)
        if raw.lower() == "none":
            values[name] = None
        elif isinstance(default, bool):
            values[name] = raw.lower() in ("1", "true", "yes")
        elif isinstance(default, int) or name in ("tcp_port",):
            values[name] = int(raw)
        elif isinstance(default, float):
            values[name] = float(raw)
        else:
            values[name] = raw
    return RelayConfig(**values)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    """Run the relay until interrupted; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m opensupport.server.relay", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="a RelayConfig field"
    )
    parser.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto", help="event loop")
    args = parser.parse_args(argv)
    try:
        config = parse_config(args.set)
    except (ValueError, TypeError) as exc:
        parser.error(str(exc))
    if args.loop != "asyncio":
        try:
            import uvloop
        except ImportError:
            if args.loop == "uvloop":
                raise
        else:  # what uvicorn itself picks when it runs the server ("auto")
            uvloop.run(serve_relay_only(args.host, args.port, config))
            return 0
    asyncio.run(serve_relay_only(args.host, args.port, config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
