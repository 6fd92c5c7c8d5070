"""Download DB-IP's free "IP to City Lite" database for the Docker image (run at build time).

    python packaging/fetch_geoip.py /opt/geoip              # this month's (or last month's) file
    python packaging/fetch_geoip.py /opt/geoip --url file:///tmp/test.mmdb.gz   # tests

Writes `<dir>/dbip-city-lite.mmdb` (MaxMind layout, read by geoip2) and `<dir>/ATTRIBUTION.txt`.
The lite edition is licensed CC BY 4.0: products that use it must show the attribution below;
the appliance shows ATTRIBUTION.txt's line wherever geo data appears. Standard library plus
`maxminddb` (installed with the appliance) to check the file before it is kept.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import sys
import tempfile
import urllib.request
from datetime import UTC, date, datetime
from pathlib import Path

DB_NAME = "dbip-city-lite.mmdb"
URL_TEMPLATE = "https://download.db-ip.com/free/dbip-city-lite-{month}.mmdb.gz"
ATTRIBUTION = "IP geolocation by DB-IP (https://db-ip.com), licensed under CC BY 4.0."
ATTRIBUTION_HTML = '<a href="https://db-ip.com">IP Geolocation by DB-IP</a>'
MAX_BYTES = 512 * 1024 * 1024  # the City Lite file is ~130 MB unpacked


def candidate_urls(today: date) -> list[str]:
    """This month's file, then last month's (a new month's file appears a few days late)."""
    previous = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    return [URL_TEMPLATE.format(month=f"{d.year:04d}-{d.month:02d}") for d in (today, previous)]


def download(url: str, target: Path) -> None:
    """Fetch a gzipped .mmdb and unpack it to `target`; raises OSError/ValueError."""
    with (
        urllib.request.urlopen(url, timeout=120) as reply,
        gzip.GzipFile(fileobj=reply) as gz,
        target.open("wb") as out,
    ):
        copied = 0
        while chunk := gz.read(1 << 20):
            copied += len(chunk)
            if copied > MAX_BYTES:
                raise ValueError(f"{url} unpacks to more than {MAX_BYTES} bytes")
            out.write(chunk)


def check_database(path: Path) -> str:
    """The database type of a readable City-layout .mmdb; raises ValueError otherwise."""
    import maxminddb

    try:
        with maxminddb.open_database(str(path)) as reader:
            kind = str(reader.metadata().database_type)
    except maxminddb.InvalidDatabaseError as exc:
        raise ValueError(str(exc)) from None
    if "city" not in kind.lower():
        raise ValueError(f"{path} is a {kind!r} database, not a City one")
    return kind


def fetch(out_dir: Path, urls: list[str]) -> Path:
    """Download the first URL that works into `out_dir`, with its attribution file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    for url in urls:
        with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
            staged = Path(tmp) / DB_NAME
            try:
                download(url, staged)
                kind = check_database(staged)
            except (OSError, ValueError) as exc:
                errors.append(f"{url}: {exc}")
                continue
            target = out_dir / DB_NAME
            shutil.move(str(staged), target)
        stamp = datetime.now(UTC).strftime("%Y-%m-%d")
        (out_dir / "ATTRIBUTION.txt").write_text(
            f"{ATTRIBUTION}\nSource: {url} ({kind}), downloaded {stamp}.\n"
        )
        print(f"GeoIP database: {target} from {url}")  # noqa: T201 - build log
        return target
    raise SystemExit("could not download a GeoIP database:\n  " + "\n  ".join(errors))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--url", action="append", help="download from here instead (repeatable)")
    args = parser.parse_args(argv)
    fetch(args.out_dir, args.url or candidate_urls(datetime.now(UTC).date()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
