"""Query bench: the reports on chDB against the same metric in DuckDB over Parquet of the same data.

Generates a 30-day scenario (`sample_data`, default 1 M events) into a fresh chDB data directory
with the appliance's default limits, writing the same rows as Parquet, then times every report in
REPORTS: our function on the EventStore, and its DuckDB statements over the Parquet files, in the
same process and run. Each is run once to warm up, then `--runs` times; the median counts. The
"overview page" is the sum of its widgets (metrics with the previous period, top pages, entry and
exit pages, five dimension lists). Prints a table with both times, the ratio and process RSS.

    python bench/queries.py                      # 1 M events, ~1 minute
    python bench/queries.py --events 10000000    # 10 M events
    python bench/queries.py --runs 9 --keep /tmp/qbench

To add a report: one `Report(name, ours, duckdb statements)` entry in REPORTS.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

try:
    import duckdb
except ImportError:  # not an appliance dependency; the bench needs it
    sys.exit("bench/queries.py needs DuckDB: pip install duckdb")

from embedded_db.reports.funnels import FunnelQuery, Step, funnel
from embedded_db.reports.overview import OverviewQuery, overview
from embedded_db.reports.retention import RetentionQuery, retention
from embedded_db.reports.toplists import ListQuery, dimension_list, entry_exit_pages, top_pages
from embedded_db.rollups import ROLLUP_TABLES
from embedded_db.store import EventStore, StoreLimits
from embedded_db.timeframe import Window, resolve_range
from jobs.rollups import Roller
from jobs.timefmt import now_ms
from sample_data.bulk import load
from sample_data.plans import ms_of
from sample_data.scenario import sized

PROJECT = "bench"
END = datetime(2025, 11, 30, tzinfo=UTC)  # the scenario ends here; "now" is just before


@dataclass(frozen=True)
class Ctx:
    """What a report runs for: the project and the window (30d, UTC, ending at END)."""

    project: str
    window: Window
    rollups: bool = True


@dataclass(frozen=True)
class Report:
    """A report as the dashboard runs it (`ours`) and the same numbers in DuckDB SQL
    (statements run in order; `$project`, `$start`, `$end`, `$pstart`, `$pend` are bound)."""

    name: str
    ours: Callable[[EventStore, Ctx], Any]
    duck: tuple[str, ...]
    widget: bool = True  # counted in the overview page total


SIDES = ("entry", "exit")
DIMENSIONS = ("referrer_name", "country", "browser", "os", "device")

# -- DuckDB statements: fixed text; {window} and {visit} stand for the two fragments below, and
# {side}/{column} only ever take the identifiers of SIDES and DIMENSIONS ------------------------
_FRAGMENTS = {
    "{window}": "project_id = $project AND created_at >= $start AND created_at < $end",
    "{visit}": (
        "approx_count_distinct(profile_id) AS unique_visitors, count(*) AS total_sessions, "
        "sum(screen_view_count) AS total_screen_views, "
        "round(count(*) FILTER (WHERE is_bounce) * 100.0 / count(*), 2) AS bounce_rate, "
        "round(coalesce(avg(duration) FILTER (WHERE duration > 0), 0) / 1000, 2) "
        "AS avg_session_duration"
    ),
}


def _sql(template: str, **identifiers: str) -> str:
    """A statement from a fixed template: the shared fragments, then whitelisted names."""
    for marker, text in _FRAGMENTS.items():
        template = template.replace(marker, text)
    for name, value in identifiers.items():
        assert value in SIDES + DIMENSIONS, value
        template = template.replace("{" + name + "}", value)
    return template


DUCK_OVERVIEW = tuple(
    _sql(t)
    for t in (
        "SELECT {visit} FROM sessions WHERE {window}",
        "SELECT sum(revenue) FROM events WHERE {window} AND name = 'revenue'",
        "SELECT {visit} FROM sessions WHERE project_id = $project "
        "AND created_at >= $pstart AND created_at < $pend",
        "SELECT sum(revenue) FROM events WHERE project_id = $project "
        "AND created_at >= $pstart AND created_at < $pend AND name = 'revenue'",
        "SELECT CAST(created_at AS DATE) AS bucket, {visit} FROM sessions WHERE {window} "
        "GROUP BY bucket",
        "SELECT CAST(created_at AS DATE) AS bucket, sum(revenue) FROM events "
        "WHERE {window} AND name = 'revenue' GROUP BY bucket",
    )
)
DUCK_TOP_PAGES = (
    _sql(
        "SELECT origin, path, approx_count_distinct(session_id) AS sessions, "
        "count(*) AS pageviews FROM events WHERE {window} AND name = 'screen_view' "
        "GROUP BY origin, path ORDER BY sessions DESC, pageviews DESC, path LIMIT 10"
    ),
)
_PAGES = (
    "SELECT {side}_origin AS origin, {side}_path AS path, count(*) AS sessions, "
    "sum(screen_view_count) AS pageviews FROM sessions WHERE {window} "
    "GROUP BY origin, path ORDER BY sessions DESC, path LIMIT 10"
)
_DIMENSION = (
    "SELECT CAST({column} AS VARCHAR) AS name, '' AS prefix, count(*) AS sessions, "
    "sum(screen_view_count) AS pageviews, "
    "round(count(*) FILTER (WHERE is_bounce) * 100.0 / count(*), 2) AS bounce_rate, "
    "round(coalesce(avg(duration) FILTER (WHERE duration > 0), 0) / 1000, 2) "
    "AS avg_session_duration FROM sessions WHERE {window} "
    "GROUP BY name, prefix ORDER BY sessions DESC, name LIMIT 10"
)


DUCK_FUNNEL = (
    _sql(
        "WITH s AS (SELECT session_id, name, created_at FROM events WHERE {window} "
        "AND name IN ('sign_up_started', 'sign_up', 'purchase')), "
        "a AS (SELECT session_id, min(created_at) AS t1 FROM s WHERE name = 'sign_up_started' "
        "GROUP BY session_id), "
        "b AS (SELECT a.session_id, t1, min(s.created_at) AS t2 FROM a JOIN s "
        "ON s.session_id = a.session_id AND s.name = 'sign_up' AND s.created_at > t1 "
        "AND s.created_at <= t1 + INTERVAL 24 HOUR GROUP BY a.session_id, t1), "
        "c AS (SELECT b.session_id FROM b JOIN s ON s.session_id = b.session_id "
        "AND s.name = 'purchase' AND s.created_at > t2 AND s.created_at <= t1 + INTERVAL 24 HOUR "
        "GROUP BY b.session_id) "
        "SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM b), (SELECT count(*) FROM c)"
    ),
)
DUCK_RETENTION = (
    _sql(
        "WITH e AS (SELECT profile_id, date_trunc('week', created_at) AS wk FROM events "
        "WHERE {window} AND name NOT IN ('session_start', 'session_end')), "
        "f AS (SELECT profile_id, min(wk) AS cohort FROM e GROUP BY profile_id) "
        "SELECT cohort, date_diff('week', cohort, e.wk) AS period, "
        "count(DISTINCT e.profile_id) AS n FROM e JOIN f USING (profile_id) "
        "GROUP BY cohort, period ORDER BY cohort, period"
    ),
)
FUNNEL_STEPS = [Step("sign_up_started"), Step("sign_up"), Step("purchase")]


def _list(ctx: Ctx) -> ListQuery:
    return ListQuery(ctx.project, ctx.window, rollups=ctx.rollups)


def _pages_report(side: str) -> Report:
    return Report(
        f"{side} pages",
        lambda store, ctx: entry_exit_pages(store, _list(ctx), side),
        (_sql(_PAGES, side=side),),
    )


def _dimension_report(column: str) -> Report:
    return Report(
        f"list: {column}",
        lambda store, ctx: dimension_list(store, _list(ctx), column),
        (_sql(_DIMENSION, column=column),),
    )


REPORTS: list[Report] = [
    Report(
        "overview metrics (+previous)",
        lambda store, ctx: overview(
            store, OverviewQuery(ctx.project, ctx.window, "day", rollups=ctx.rollups)
        ),
        DUCK_OVERVIEW,
    ),
    Report("top pages", lambda store, ctx: top_pages(store, _list(ctx)), DUCK_TOP_PAGES),
    *[_pages_report(side) for side in SIDES],
    *[_dimension_report(column) for column in DIMENSIONS],
    Report(
        "funnel (3 steps, 24 h)",
        lambda store, ctx: funnel(store, FunnelQuery(ctx.project, ctx.window, FUNNEL_STEPS)),
        DUCK_FUNNEL,
        widget=False,
    ),
    Report(
        "retention (weekly, on)",
        lambda store, ctx: retention(
            store,
            RetentionQuery(ctx.project, ctx.window, "week", "on", now=ctx.window.end),
        ),
        DUCK_RETENTION,
        widget=False,
    ),
]


# -- running -------------------------------------------------------------------------------------
def median_ms(fn: Callable[[], Any], runs: int) -> float:
    """Median wall time of `runs` calls after one warm-up call, in ms."""
    fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _ours_runner(report: Report, store: EventStore, ctx: Ctx) -> Callable[[], Any]:
    return lambda: report.ours(store, ctx)


def duck_runner(
    con: duckdb.DuckDBPyConnection, ctx: Ctx, statements: Sequence[str]
) -> Callable[[], list[Any]]:
    params = duck_params(ctx)

    def run() -> list[Any]:
        out = []
        for sql in statements:
            bound = {k: v for k, v in params.items() if "$" + k in sql}
            out.append(con.execute(sql, bound).fetchall())
        return out

    return run


def duck_params(ctx: Ctx) -> dict[str, Any]:
    previous = ctx.window.previous()
    return {
        "project": ctx.project,
        "start": ctx.window.start,
        "end": ctx.window.end,
        "pstart": previous.start,
        "pend": previous.end,
    }


def duck_connection(parquet: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for table in ("events", "sessions"):
        con.read_parquet(str(parquet / f"{table}.parquet")).create_view(table)
    return con


def rss_mib() -> tuple[float, float]:
    """(current, peak) resident set size of this process, MiB."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def bytes_per_event(store: EventStore, events: int) -> str:
    """Stored bytes per event after merging every table (the disk target counts them all)."""
    for table in ("events", "sessions", "profiles", *ROLLUP_TABLES):
        store.execute(f"OPTIMIZE TABLE openpanel.{table} FINAL")
    rows = store.query(
        "SELECT table, sum(data_compressed_bytes) AS bytes FROM system.parts "
        "WHERE database = 'openpanel' AND active GROUP BY table ORDER BY bytes DESC"
    )
    total = sum(int(r["bytes"]) for r in rows)
    parts = ", ".join(f"{r['table']} {int(r['bytes']) / events:.1f}" for r in rows[:4])
    return f"bytes per event after merges: {total / events:.1f} ({parts})"


def dir_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def agree(store: EventStore, con: duckdb.DuckDBPyConnection, ctx: Ctx) -> str:
    """Spot-check that both engines see the same data (exact counts)."""
    ours = overview(store, OverviewQuery(ctx.project, ctx.window, "day", previous=False))
    theirs = duck_runner(con, ctx, DUCK_OVERVIEW[:1])()[0][0]
    ok_totals = (
        ours["metrics"]["total_sessions"]["value"] == theirs[1]
        and ours["metrics"]["total_screen_views"]["value"] == theirs[2]
    )
    entry = entry_exit_pages(store, _list(ctx), "entry")["data"]
    their_entry = duck_runner(con, ctx, (_sql(_PAGES, side="entry"),))()[0]
    ok_entry = [(r["path"], r["sessions"], r["pageviews"]) for r in entry] == [
        (r[1], r[2], r[3]) for r in their_entry
    ]
    return "yes" if ok_totals and ok_entry else f"NO (totals {ok_totals}, entry pages {ok_entry})"


def run(args: argparse.Namespace) -> str:
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="qbench-"))
    shutil.rmtree(work / "chdb", ignore_errors=True)
    scenario = sized(args.events, 30, seed=args.seed, end_ms=ms_of(END))
    store = EventStore(work / "chdb", StoreLimits()).open()
    lines = []
    try:
        store.migrate()
        stats = load(store, PROJECT, scenario, parquet_dir=work / "parquet")
        rss_loaded = rss_mib()
        ctx = Ctx(PROJECT, resolve_range("30d", "UTC", END - timedelta(milliseconds=1)))
        if args.optimize:
            store.execute("OPTIMIZE TABLE openpanel.sessions FINAL")
        con = duck_connection(work / "parquet")
        lines += _header(args, stats, work)
        lines.append(f"results agree (sessions, pageviews, entry pages): {agree(store, con, ctx)}")
        lines.append("")
        lines.append(
            f"{'report':32} {'raw ms':>9} {'rolled ms':>10} {'duckdb ms':>10} {'ratio':>7}"
        )
        started = time.perf_counter()
        roller = Roller(store, timeout_ms=30 * 60_000, budget_s=1e9)
        rolled_hours = roller.run(now_ms())
        roll_s = time.perf_counter() - started
        raw_ctx = Ctx(ctx.project, ctx.window, rollups=False)
        raw = {r.name: median_ms(_ours_runner(r, store, raw_ctx), args.runs) for r in REPORTS}
        ours = {r.name: median_ms(_ours_runner(r, store, ctx), args.runs) for r in REPORTS}
        rss_ours = rss_mib()
        theirs = {r.name: median_ms(duck_runner(con, ctx, r.duck), args.runs) for r in REPORTS}
        rss_duck = rss_mib()
        for r in REPORTS:
            w, a, b = raw[r.name], ours[r.name], theirs[r.name]
            lines.append(f"{r.name:32} {w:9.1f} {a:10.1f} {b:10.1f} {a / b:6.2f}×")
        w = sum(raw[r.name] for r in REPORTS if r.widget)
        a = sum(ours[r.name] for r in REPORTS if r.widget)
        b = sum(theirs[r.name] for r in REPORTS if r.widget)
        lines.append(
            f"{'overview page (sum of widgets)':32} {w:9.1f} {a:10.1f} {b:10.1f} {a / b:6.2f}×"
        )
        lines.append(f"rolled up {rolled_hours:,} hours in {roll_s:.1f} s (first turn after load)")
        lines.append(bytes_per_event(store, stats.events))
        lines.append("")
        lines.append(
            f"RSS MiB: after load {rss_loaded[0]:,.0f}; after our queries {rss_ours[0]:,.0f}; "
            f"after DuckDB's {rss_duck[0]:,.0f} (peak {rss_duck[1]:,.0f}; one process)"
        )
        lines.append(
            f"on disk: chDB {dir_mib(work / 'chdb'):,.0f} MiB, "
            f"Parquet (zstd) {dir_mib(work / 'parquet'):,.0f} MiB"
        )
        lines.append(
            "ratio = ours (rolled) / DuckDB (lower is better; < 1 means we are faster); "
            "raw = the same report reading no rollups"
        )
        con.close()
    finally:
        store.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return "\n".join(lines)


def _header(args: argparse.Namespace, stats: Any, work: Path) -> list[str]:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return [
        f"Query bench {now}  cores={os.cpu_count()}  python={sys.version.split()[0]}  "
        f"duckdb={duckdb.__version__}  --events {args.events:,} --runs {args.runs}",
        "",
        f"loaded {stats.events:,} events, {stats.sessions:,} visits, {stats.profiles:,} "
        f"profiles in {stats.seconds:.1f} s (generate + Parquet {stats.generate_seconds:.1f} s, "
        f"chDB inserts {stats.insert_seconds:.1f} s)  → {stats.events / stats.seconds:,.0f} "
        "events/s",
        f"window: 30d ending {END:%Y-%m-%d} (UTC), interval day, previous period on",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7, help="timed runs per report (median)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", default="", help="work directory to keep (chDB + Parquet)")
    parser.add_argument(
        "--optimize", action="store_true", help="OPTIMIZE … FINAL the sessions table first"
    )
    args = parser.parse_args(argv)
    if args.runs < 5:
        parser.error("--runs must be at least 5")
    print(run(args), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
