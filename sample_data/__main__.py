"""`python -m sample_data`: write a scenario's rows as Parquet (or gzipped NDJSON) files.

    python -m sample_data --events 1000000 --days 30 --seed 1 --out /tmp/demo
    python -m sample_data --events 2000 --days 1 --end 2025-11-30T00:00:00Z \
        --format ndjson --out sample_data/sample          # the committed sample

Files: events, sessions and profiles (`.parquet`, or `.ndjson.gz` with ClickHouse-style times).
The same arguments always write the same rows.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from jobs.timefmt import ch_time
from sample_data.bulk import TABLES, LoadStats, export, tables
from sample_data.plans import Scenario, ms_of
from sample_data.scenario import sized


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sample_data", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--events", type=int, default=1_000_000, help="about this many events")
    parser.add_argument("--days", type=int, default=30, help="days of traffic (default 30)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--end", default="", help="ISO moment the traffic ends (default: today 00:00 UTC)"
    )
    parser.add_argument("--project", default="demo", help="project id written in the rows")
    parser.add_argument("--format", choices=("parquet", "ndjson"), default="parquet")
    parser.add_argument("--out", type=Path, required=True, help="directory to write into")
    return parser.parse_args(argv)


def end_ms(text: str) -> int:
    """The scenario end: an ISO moment (naive = UTC), or today's UTC midnight."""
    if not text:
        return ms_of(datetime.combine(datetime.now(UTC).date(), time.min, UTC))
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return ms_of(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def write_ndjson(out_dir: Path, scenario: Scenario, project_id: str) -> LoadStats:
    """Write <table>.ndjson.gz files (deterministic: no gzip timestamp)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stats = LoadStats()
    files = {name: (out_dir / f"{name}.ndjson.gz").open("wb") for name in TABLES}
    zipped = {
        name: gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=9)
        for name, f in files.items()
    }
    try:
        for name, table in tables(scenario, project_id):
            for row in _json_rows(table):
                zipped[name].write(json.dumps(row, ensure_ascii=False).encode() + b"\n")
            stats.rows[name] += table.num_rows
    finally:
        for name in TABLES:
            zipped[name].close()
            files[name].close()
    return stats


def _json_rows(table: pa.Table) -> list[dict[str, Any]]:
    """Rows with times as 'YYYY-MM-DD HH:MM:SS.mmm' (UTC), maps as objects."""
    columns: dict[str, list[Any]] = {}
    for field in table.schema:
        column = table.column(field.name)
        if pa.types.is_timestamp(field.type):
            unit = 1 if field.type.unit == "ms" else 1000
            columns[field.name] = [
                None if v is None else ch_time(v * unit)
                for v in column.cast(pa.int64()).to_pylist()
            ]
        elif pa.types.is_float32(field.type):  # print what the Float32 holds: -0.1278
            columns[field.name] = [
                None if v is None else float(str(np.float32(v))) for v in column.to_pylist()
            ]
        elif pa.types.is_map(field.type):
            columns[field.name] = [dict(v) for v in column.to_pylist()]
        else:
            columns[field.name] = column.to_pylist()
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    scenario = sized(args.events, args.days, seed=args.seed, end_ms=end_ms(args.end))
    if args.format == "ndjson":
        stats = write_ndjson(args.out, scenario, args.project)
    else:
        stats = export(args.out, scenario, args.project)
    counts = ", ".join(f"{n:,} {name}" for name, n in stats.rows.items())
    print(f"wrote {counts} to {args.out} ({scenario.visits_per_day:,} visits/day)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
