"""``opensupport bench admin``: the records search, the statistics and the Excel export on 1,000,000 records.

For each database (SQLite file in WAL mode; PostgreSQL in a fresh database on 127.0.0.1:5432):

1. migrate a new database and seed one company with N records over two years (200 agents, 30 fault
   types, realistic shapes: see ``opensupport.server.records.seed``), in bulk (COPY / executemany);
2. the records search of 전체기록보기 as the page runs it (the count, exact up to 50,000, and the first
   page of 20, newest first) for each period preset and for an agent-ID keyword: p50 / p95 over
   ``--repeat`` runs (target p95 <= 100 ms); for information, a year's exact count alone and a sort by
   customer name;
3. each statistics view over the last month (the page's default) and over the last year
   (target p95 <= 500 ms);
4. the Excel export of the smallest recent period holding at least ``--export-rows`` records (100,000),
   in a child process, which reports its wall time and its peak memory (``ru_maxrss``; target <= 10 s and
   <= 300 MB); the child also reports its memory before the export began, so that the growth is visible.

Timings are wall-clock on whatever else the machine runs; they are figures for this machine, not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

PG_ADMIN_URL = os.environ.get(
    "OPENSUPPORT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ZONE = ZoneInfo("Asia/Seoul")
SEARCH_TARGET_MS = 100.0
STATS_TARGET_MS = 500.0
EXPORT_TARGET_S = 10.0
EXPORT_TARGET_MB = 300.0


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p95_ms": round(p95 * 1000, 2)}


def _timed(func: Callable[[], Any], repeat: int) -> tuple[dict[str, float], Any]:
    func()  # one warm-up run: the first touch of an index pays for reading it from disk
    samples = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        samples.append(time.perf_counter() - start)
    return _percentiles(samples), result


def _create_postgres_database() -> tuple[str, Callable[[], None]]:
    from sqlalchemy import create_engine

    name = f"opensupport_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return url, drop


def _export_period(session: Any, company_id: int, today: dt.date, rows: int) -> Any:
    """The shortest period ending today that holds at least ``rows`` records (what an admin would export)."""
    from opensupport.server.records.periods import Period
    from opensupport.server.records.search import RecordSearch, count_records

    lo, hi = 1, 731
    while lo < hi:
        mid = (lo + hi) // 2
        period = Period(today - dt.timedelta(days=mid - 1), today, ZONE)
        if count_records(session, RecordSearch(company_id=company_id, period=period)) >= rows:
            hi = mid
        else:
            lo = mid + 1
    return Period(today - dt.timedelta(days=lo - 1), today, ZONE)


def export_worker(url: str, company_id: int, first: str, last: str, out: str) -> dict[str, Any]:
    """Run one export as the page does and measure it (called in a child process)."""
    from opensupport.server.db import Database
    from opensupport.server.records.export import write_records_xlsx
    from opensupport.server.records.periods import Period
    from opensupport.server.records.search import RecordSearch, iter_search_rows

    database = Database(url)
    period = Period(dt.date.fromisoformat(first), dt.date.fromisoformat(last), ZONE)
    search = RecordSearch(company_id=company_id, period=period)
    with database.sessions() as session:
        session.connection()  # connect before measuring the baseline
        before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        start = time.perf_counter()
        rows = write_records_xlsx(iter_search_rows(session, search), out, zone=ZONE)
        seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    database.dispose()
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak_mb, 1),
        "rss_before_mb": round(before_mb, 1),
        "file_mb": round(os.path.getsize(out) / 2**20, 1),
    }


def _run_export(url: str, company_id: int, period: Any) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="opensupport-bench-") as folder:
        out = os.path.join(folder, "records.xlsx")
        args = [sys.executable, "-m", "opensupport.benchmarks.admin", "--export-worker", url, str(company_id),
                period.first.isoformat(), period.last.isoformat(), out]  # fmt: skip
        proc = subprocess.run(args, capture_output=True, text=True, check=False, timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"export worker failed: {proc.stderr[-2000:]}")
        with open(out, "rb") as f:
            if f.read(2) != b"PK":
                raise RuntimeError("the export is not an .xlsx (zip) file")
        return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def bench_database(
    kind: str, records: int, repeat: int, export_rows: int, log: Callable[[str], None]
) -> dict[str, Any]:
    """Seed and measure one database; returns its figures."""
    from opensupport.server.db import Database
    from opensupport.server.records.periods import PRESETS, preset_period
    from opensupport.server.records.search import RecordSearch, count_records, search_records
    from opensupport.server.records.seed import seed_company
    from opensupport.server.records.stats import KINDS, compute_stats

    cleanup: Callable[[], None]
    if kind == "sqlite":
        folder = tempfile.TemporaryDirectory(prefix="opensupport-bench-")
        url = f"sqlite:///{folder.name}/bench.sqlite3"
        cleanup = folder.cleanup
    else:
        url, cleanup = _create_postgres_database()
    figures: dict[str, Any] = {"database": kind}
    database = Database(url)
    try:
        database.upgrade()
        today = dt.datetime.now(ZONE).date()
        log(f"[{kind}] seeding {records:,} records ...")
        start = time.perf_counter()
        seeded = seed_company(database.engine, records, end=today, agents=200, fault_types=30, days=730)
        seconds = time.perf_counter() - start
        figures["seed"] = {
            "records": records,
            "seconds": round(seconds, 1),
            "rows_per_s": round(records / seconds),
        }
        log(f"[{kind}] seeded in {seconds:.1f} s; searching ...")
        company = seeded.company_id
        search_figures: dict[str, Any] = {}
        with database.sessions() as session:
            for key in PRESETS:
                search = RecordSearch(company_id=company, period=preset_period(key, today, ZONE))
                timing, page = _timed(partial(search_records, session, search), repeat)
                search_figures[key] = {**timing, "total": page.total, "capped": page.capped}
            busiest = seeded.agent_login_ids[0]
            quiet = seeded.agent_login_ids[len(seeded.agent_login_ids) // 2]
            for label, agent in (("keyword_busiest_1y", busiest), ("keyword_typical_1y", quiet)):
                search = RecordSearch(
                    company_id=company, period=preset_period("1y", today, ZONE), agent_id=agent
                )
                timing, page = _timed(partial(search_records, session, search), repeat)
                search_figures[label] = {**timing, "total": page.total, "agent": agent}
            year = RecordSearch(company_id=company, period=preset_period("1y", today, ZONE))
            timing, total = _timed(partial(count_records, session, year), max(3, repeat // 4))
            search_figures["exact_count_only_1y"] = {**timing, "total": total, "informative": True}
            other_sort = RecordSearch(
                company_id=company, period=preset_period("1m", today, ZONE), sort="customer"
            )
            timing, page = _timed(partial(search_records, session, other_sort), max(3, repeat // 4))
            search_figures["sort_by_customer_1m"] = {**timing, "total": page.total, "informative": True}
            figures["search"] = search_figures
            log(f"[{kind}] statistics ...")
            stats_figures: dict[str, Any] = {}
            for period_key in ("1m", "1y"):
                period = preset_period(period_key, today, ZONE)
                for view in KINDS:
                    timing, table = _timed(
                        partial(compute_stats, session, company, view, period), max(3, repeat // 2)
                    )
                    stats_figures[f"{view}_{period_key}"] = {**timing, "total": table.total}
            figures["stats"] = stats_figures
            export_period = _export_period(session, company, today, export_rows)
        log(f"[{kind}] export {export_period.first} ~ {export_period.last} ...")
        figures["export"] = _run_export(url, company, export_period)
    finally:
        database.dispose()
        cleanup()
    return figures


def _verdicts(figures: dict[str, Any]) -> dict[str, bool]:
    search_ok = all(
        v["p95_ms"] <= SEARCH_TARGET_MS for v in figures["search"].values() if not v.get("informative")
    )
    stats_ok = all(v["p95_ms"] <= STATS_TARGET_MS for v in figures["stats"].values())
    export = figures["export"]
    export_ok = export["seconds"] <= EXPORT_TARGET_S and export["peak_rss_mb"] <= EXPORT_TARGET_MB
    return {"search": search_ok, "stats": stats_ok, "export": export_ok}


def _print_table(result: dict[str, Any]) -> None:
    for figures in result["databases"].values():
        db = figures["database"]
        seed = figures["seed"]
        print(
            f"\n== {db}: {seed['records']:,} records seeded in {seed['seconds']} s ({seed['rows_per_s']:,} rows/s)"
        )
        print(f"{'records search (count + first page)':<38}{'rows':>10}{'p50 ms':>10}{'p95 ms':>10}  target")
        for key, v in figures["search"].items():
            target = (
                "(info)" if v.get("informative") else ("ok" if v["p95_ms"] <= SEARCH_TARGET_MS else "MISSED")
            )
            rows = f"{v['total']:,}" + ("+" if v.get("capped") else "")
            print(f"  {key:<36}{rows:>10}{v['p50_ms']:>10.1f}{v['p95_ms']:>10.1f}  <=100 {target}")
        print(f"{'statistics view':<38}{'rows':>10}{'p50 ms':>10}{'p95 ms':>10}  target")
        for key, v in figures["stats"].items():
            target = "ok" if v["p95_ms"] <= STATS_TARGET_MS else "MISSED"
            print(f"  {key:<36}{v['total']:>10,}{v['p50_ms']:>10.1f}{v['p95_ms']:>10.1f}  <=500 {target}")
        e = figures["export"]
        ok = e["seconds"] <= EXPORT_TARGET_S and e["peak_rss_mb"] <= EXPORT_TARGET_MB
        print(
            f"excel export: {e['rows']:,} rows in {e['seconds']} s, peak RSS {e['peak_rss_mb']} MB "
            f"(before export {e['rss_before_mb']} MB), file {e['file_mb']} MB  "
            f"target <=10 s, <=300 MB: {'ok' if ok else 'MISSED'}"
        )


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``opensupport bench admin``; returns 0 (figures printed) or 2 (bad arguments)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--export-worker"]:
        if len(args) != 6:
            print("usage: --export-worker URL COMPANY_ID FIRST LAST OUT", file=sys.stderr)
            return 2
        url, company, first, last, out = args[1:]
        print(json.dumps(export_worker(url, int(company), first, last, out)))
        return 0
    parser = argparse.ArgumentParser(prog="opensupport bench admin", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument("--records", type=int, default=1_000_000, help="records to seed (default 1,000,000)")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=20, help="runs per measured search (default 20)")
    parser.add_argument(
        "--export-rows", type=int, default=100_000, help="records in the export (default 100,000)"
    )
    opts = parser.parse_args(args)
    if opts.records < 1000 or opts.repeat < 1 or opts.export_rows < 1:
        parser.error("--records must be at least 1000, --repeat and --export-rows at least 1")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    kinds = ["sqlite", "postgres"] if opts.db == "both" else [opts.db]
    result: dict[str, Any] = {
        "benchmark": "admin",
        "records": opts.records,
        "repeat": opts.repeat,
        "zone": str(ZONE),
        "targets": {
            "search_p95_ms": SEARCH_TARGET_MS,
            "stats_p95_ms": STATS_TARGET_MS,
            "export_s": EXPORT_TARGET_S,
            "export_peak_mb": EXPORT_TARGET_MB,
        },
        "load_average": os.getloadavg(),
        "databases": {},
    }
    for kind in kinds:
        figures = bench_database(kind, opts.records, opts.repeat, opts.export_rows, log)
        figures["met"] = _verdicts(figures)
        result["databases"][kind] = figures
    result["load_average_after"] = os.getloadavg()
    if opts.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        _print_table(result)
        print(f"\nload average before {result['load_average']}, after {result['load_average_after']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
