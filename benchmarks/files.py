"""``opensupport bench files [--mib N] [--fragment BYTES] [--runs N] [--json]``: file transfer over two real
protocol sessions in memory (no relay): encryption, fragmentation, file credit, SHA-256 and disk on both
ends, both ends in this one process and thread. The relay benchmark of issue 6 adds the relay and the
network; this one shows what the two ends cost. Figures from a shared machine are single runs.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from opensupport.protocol import DEFAULT_FRAGMENT_SIZE
from opensupport.tools.files import measure_throughput


def main(argv: Sequence[str] | None = None) -> int:
    """Run the measurement and print it (JSON keys: ``mb_per_s`` best of the runs, ``runs``)."""
    parser = argparse.ArgumentParser(prog="opensupport bench files", description=__doc__)
    parser.add_argument("--mib", type=int, default=256, help="file size in MiB (default 256)")
    parser.add_argument("--fragment", type=int, default=DEFAULT_FRAGMENT_SIZE, help="record fragment size")
    parser.add_argument("--runs", type=int, default=3, help="runs; the best is reported")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    runs = [measure_throughput(args.mib * 1024 * 1024, fragment_size=args.fragment) for _ in range(args.runs)]
    best = max(r["mb_per_s"] for r in runs)
    if args.json:
        print(json.dumps({"mb_per_s": round(best, 1), "runs": runs}))
    else:
        for r in runs:
            print(
                f"{r['bytes'] / 1e6:.0f} MB in {r['seconds']:.2f} s: {r['mb_per_s']:.0f} MB/s, "
                f"{r['records']:.0f} records; sender alone {r['sender_mb_per_s']:.0f} MB/s, "
                f"receiver alone {r['receiver_mb_per_s']:.0f} MB/s"
            )
        print(f"best: {best:.0f} MB/s (both ends in one thread)")
    return 0
