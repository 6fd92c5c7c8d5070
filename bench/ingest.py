"""Ingest benchmark (docs/performance-targets.md): throughput, latency, time to visible, memory.

Starts the appliance (`openpanel serve`) in a temporary data directory and a bare Litestar app
(`bench/bare_app.py`) on 127.0.0.1, loads both the same way, and prints figures and ratios:

- throughput: closed loop, N keep-alive connections, one real `/track` body per request
  (screen_view, full URL, referrer, browser UA, Origin, a client IP from a pool of 1,000 public
  addresses); every 2xx must be stored, counted through `/export/events`;
- latency: 1,000 events/s offered (open loop) for 10 s; measured from the scheduled send time;
- time to visible: accepted → returned by `/export/events`, under that load and idle;
- RSS of the appliance process, idle and after load.

The load generator is a small asyncio HTTP/1.1 client (uvloop when installed) in this process;
it shares the machine's cores with the server, and the printout says how much CPU each side used.

    python bench/ingest.py --seconds 20 --connections 64
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

# Benches run as scripts (`python bench/ingest.py`), so their siblings import by bare name.
from loadgen import LoadResult, closed_loop, open_loop

HOST = "127.0.0.1"  # the only address this bench ever talks to
ORIGIN = "https://shop.example.com"
BROWSER_UAS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
)
PUBLIC_FIRST_OCTETS = (23, 31, 46, 62, 77, 81, 89, 93, 145, 151, 176, 185, 188, 193, 212, 217)
REFERRERS = (
    "https://www.google.com/",
    "https://duckduckgo.com/",
    "https://news.ycombinator.com/",
    "https://t.co/abc",
    "",
)
TARGETS = {"events_per_s": 5_000, "ratio": 0.6, "p99_ms": 50, "ttv_p95_s": 2.0, "idle_rss_mib": 500}
REPO = Path(__file__).resolve().parent.parent
clock = time.perf_counter  # uvloop's loop.time() only has millisecond resolution


class TrackRequests:
    """Real browser `/track` requests, each with its own page URL (so that none is a duplicate)."""

    def __init__(self, port: int, client_id: str, ips: int = 1000, seed: int = 7) -> None:
        rnd = random.Random(seed)
        self.ips = [
            f"{rnd.choice(PUBLIC_FIRST_OCTETS)}.{rnd.randrange(256)}."
            f"{rnd.randrange(256)}.{rnd.randrange(1, 255)}"
            for _ in range(ips)
        ]
        self.port = port
        self.client_id = client_id
        self.counter = itertools.count()

    def body(self, n: int, name: str = "screen_view", extra: dict[str, str] | None = None) -> bytes:
        props = {
            "__path": f"{ORIGIN}/products/{n % 5000}?utm_source=newsletter&utm_medium=email&v={n}",
            "__referrer": REFERRERS[n % len(REFERRERS)],
            "__title": f"Product {n % 5000} | Shop",
            "__screen": "1920x1080",
            **(extra or {}),
        }
        return json.dumps(
            {"type": "track", "payload": {"name": name, "properties": props}}, separators=(",", ":")
        ).encode()

    def headers(self, n: int) -> dict[str, str]:
        return {
            "openpanel-client-id": self.client_id,
            "origin": ORIGIN,
            "user-agent": BROWSER_UAS[(n // len(self.ips)) % len(BROWSER_UAS)],
            "x-forwarded-for": self.ips[n % len(self.ips)],
            "openpanel-sdk-name": "web",
            "openpanel-sdk-version": "1.0.1",
            "content-type": "application/json",
        }

    def next_raw(self) -> bytes:
        n = next(self.counter)
        body = self.body(n)
        lines = [
            f"POST /track HTTP/1.1\r\nhost: {HOST}:{self.port}\r\ncontent-length: {len(body)}\r\n"
        ]
        lines += [f"{k}: {v}\r\n" for k, v in self.headers(n).items()]
        return ("".join(lines) + "\r\n").encode() + body


# -- processes -------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) in MiB, from /proc/<pid>/status."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Server:
    """A server subprocess on 127.0.0.1 with its log file."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]

    @classmethod
    def start(cls, name: str, argv: list[str], work: Path, env: dict[str, str]) -> Server:
        """Run `argv --port <free port>` and wait until it answers HTTP."""
        port, log = free_port(), work / f"{name}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [*argv, "--port", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=REPO,
            )
        server = cls(name, port, proc)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"http://{HOST}:{port}/-/health", timeout=2)
                return server  # any answer (the bare app has no such route: 404) means ready
            time.sleep(0.1)
        server.stop()
        raise RuntimeError(f"{name} did not start:\n{log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@dataclass
class Appliance:
    server: Server
    client_id: str
    read_headers: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server.port}"

    def stored(self, name: str = "screen_view") -> int:
        params = {"event": name, "limit": 1}
        reply = httpx.get(
            self.url + "/export/events", params=params, headers=self.read_headers, timeout=30
        )
        reply.raise_for_status()
        return int(reply.json()["meta"]["totalCount"])

    def backlog(self) -> int:
        reply = httpx.get(self.url + "/-/health", timeout=30).json()
        return int(reply["checks"]["spool"]["backlog"])

    def wait_stored(self, expected: int, timeout: float = 120) -> tuple[int, float]:
        """Poll until `expected` screen_views are stored; return (stored, seconds waited)."""
        started = time.monotonic()
        stored = self.stored()
        while stored < expected and time.monotonic() - started < timeout:
            time.sleep(0.2)
            stored = self.stored()
        return stored, time.monotonic() - started


def start_appliance(work: Path, geoip: Path | None) -> Appliance:
    """`openpanel serve` on a fresh data dir with one project (CORS: ORIGIN) and a read client."""
    env = {**os.environ, "OPENPANEL_API_RATE_LIMIT": "1000000", "OPENPANEL_LOG_LEVEL": "warning"}
    if geoip is not None:
        env["OPENPANEL_GEOIP_DB"] = str(geoip)
    cli = [sys.executable, "-m", "appliance.cli"]
    data = ["--data-dir", str(work / "data")]

    def run_cli(*args: str) -> dict[str, Any]:
        out = subprocess.run(
            [*cli, *args, "--json", *data],
            check=True,
            capture_output=True,
            env=env,
            cwd=REPO,
            timeout=120,
        )
        return dict(json.loads(out.stdout))

    project = run_cli("project", "create", "Bench shop", "--cors", ORIGIN)
    reader = run_cli("client", "create", "--project", project["project_id"], "--type", "read")
    server = Server.start("appliance", [*cli, "serve", *data], work, env)
    return Appliance(
        server,
        project["client_id"],
        {
            "openpanel-client-id": reader["client_id"],
            "openpanel-client-secret": reader["client_secret"],
        },
    )


def start_bare(work: Path) -> Server:
    argv = [sys.executable, str(REPO / "bench" / "bare_app.py")]
    return Server.start("bare", argv, work, dict(os.environ))


# -- measurements ----------------------------------------------------------------------------------
def measured(pid: int, run: Callable[[], LoadResult]) -> LoadResult:
    """Run a load phase and attribute CPU time to the server and to this process."""
    server_before, client_before = cpu_seconds(pid), own_cpu()
    result = run()
    result.server_cpu = cpu_seconds(pid) - server_before
    result.client_cpu = own_cpu() - client_before
    return result


async def time_to_visible(
    app: Appliance, requests: TrackRequests, samples: int, until: float | None = None
) -> list[float]:
    """Probe events, one after another: seconds from each one's 2xx to the first export that
    returns it. Stops after `samples`, or at `clock()` time `until` when given."""
    out: list[float] = []
    async with httpx.AsyncClient(base_url=app.url, timeout=30) as http:
        while len(out) < samples and (until is None or clock() < until):
            probe, n = uuid.uuid4().hex, next(requests.counter)
            body = requests.body(n, "ttv_probe", {"probe": probe})
            reply = await http.post("/track", headers=requests.headers(n), content=body)
            reply.raise_for_status()
            accepted = clock()
            where = [{"name": "properties.probe", "operator": "is", "value": [probe]}]
            params = {"event": "ttv_probe", "limit": 1, "filters": json.dumps(where)}
            while True:
                page = await http.get("/export/events", params=params, headers=app.read_headers)
                if page.json()["meta"]["totalCount"]:
                    break
                if clock() - accepted > 30:
                    raise RuntimeError("a probe event was not visible after 30 s")
                await asyncio.sleep(0.02)
            out.append(clock() - accepted)
    return out


async def latency_with_probes(
    app: Appliance, requests: TrackRequests, rate: float, seconds: float, connections: int
) -> tuple[LoadResult, list[float]]:
    load = asyncio.create_task(open_loop(app.server.port, requests, rate, seconds, connections))
    probes = await time_to_visible(app, requests, 1000, until=clock() + seconds - 1)
    return await load, probes


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def ms(values: list[float]) -> str:
    return "  ".join(f"p{q}={pct(values, q) * 1000:.1f} ms" for q in (50, 95, 99))


@dataclass
class Figures:
    """Everything one bench run measured."""

    app: LoadResult
    bare: LoadResult
    latency: LoadResult
    bare_latency: LoadResult
    accepted: int  # screen_views answered 2xx by the appliance (all phases)
    stored: int  # screen_views the export counts afterwards
    backlog: int  # spool records waiting when the throughput run ended
    drain_s: float  # until all of them were stored
    ttv_load: list[float]
    ttv_idle: list[float]
    rss_idle: float
    rss_after: float
    rss_peak: float


def report(f: Figures, args: argparse.Namespace) -> str:
    cores = os.cpu_count() or 1
    ratio = f.app.rate / f.bare.rate if f.bare.rate else float("nan")
    p99 = pct(f.latency.latencies, 99) * 1000
    ttv95 = pct(f.ttv_load, 95)
    t = TARGETS
    checks = [
        (
            f"throughput ≥ {t['events_per_s']:,}/s",
            f"{f.app.rate:,.0f}/s",
            f.app.rate >= t["events_per_s"],
        ),
        (f"vs bare Litestar ≥ {t['ratio']}×", f"{ratio:.2f}×", ratio >= t["ratio"]),
        (f"p99 ≤ {t['p99_ms']} ms at {args.rate:,.0f}/s", f"{p99:.1f} ms", p99 <= t["p99_ms"]),
        (f"time to visible p95 ≤ {t['ttv_p95_s']:g} s", f"{ttv95:.2f} s", ttv95 <= t["ttv_p95_s"]),
        (
            f"idle RSS ≤ {t['idle_rss_mib']} MiB",
            f"{f.rss_idle:.0f} MiB",
            f.rss_idle <= t["idle_rss_mib"],
        ),
        ("every accepted event stored", f"{f.stored:,}/{f.accepted:,}", f.stored == f.accepted),
    ]

    def phase(name: str, r: LoadResult) -> str:
        return (
            f"  {name:<11}{r.rate:7,.0f}/s  2xx={r.ok:,} non-2xx={r.sent - r.ok} "
            f"errors={r.errors}  {ms(r.latencies)}\n{'':13}CPU: server "
            f"{r.server_cpu / r.seconds:.2f} cores, "
            f"load generator {r.client_cpu / r.seconds:.2f} cores"
        )

    def ttv(name: str, values: list[float]) -> str:
        return (
            f"  {name:<11}n={len(values)}  p50={pct(values, 50):.2f} s  "
            f"p95={pct(values, 95):.2f} s  max={max(values, default=0):.2f} s"
        )

    return "\n".join(
        [
            "",
            f"Ingest bench {time.strftime('%Y-%m-%d %H:%M %Z')}  cores={cores}  "
            f"python={sys.version.split()[0]}  --seconds {args.seconds:g} "
            f"--connections {args.connections}",
            "",
            "throughput: closed loop, keep-alive, one real /track body per request",
            phase("appliance", f.app),
            phase("bare", f.bare),
            f"  stored {f.stored:,} of {f.accepted:,} accepted screen_views (spool backlog "
            f"{f.backlog:,} when the load stopped, all stored {f.drain_s:.1f} s later)",
            "",
            f"latency: {args.rate:,.0f} events/s offered for {args.latency_seconds:g} s, measured "
            "from the scheduled send time",
            f"  appliance  {ms(f.latency.latencies)}  max={max(f.latency.latencies) * 1000:.1f} ms"
            f"  achieved {f.latency.rate:,.0f}/s, non-2xx={f.latency.sent - f.latency.ok}",
            f"  bare       {ms(f.bare_latency.latencies)}",
            "",
            "time to visible: 2xx → returned by /export/events",
            ttv("under load", f.ttv_load),
            ttv("idle", f.ttv_idle),
            "",
            f"appliance RSS: idle {f.rss_idle:.0f} MiB, after load {f.rss_after:.0f} MiB, "
            f"peak {f.rss_peak:.0f} MiB",
            "",
            "targets (docs/performance-targets.md)",
            *(
                f"  {label:<32}{value:>14}   {'meets' if ok else 'MISSES'}"
                for label, value, ok in checks
            ),
            "",
            f"note: the load generator shares the {cores} cores with the server (see CPU above);",
            "      both servers are loaded by the same generator in the same run.",
        ]
    )


# -- main ------------------------------------------------------------------------------------------
def run(args: argparse.Namespace, work: Path) -> Figures:
    app = start_appliance(work, args.geoip_db)
    port, pid, conns = app.server.port, app.server.proc.pid, args.connections
    try:
        time.sleep(2)  # let start-up work (migrations, caches, first reap) settle
        rss_idle = rss_mib(pid)[0]
        requests = TrackRequests(port, app.client_id)
        print(
            f"appliance up (idle RSS {rss_idle:.0f} MiB); {args.seconds:g} s at {conns} "
            "connections…",
            flush=True,
        )
        warm = asyncio.run(closed_loop(port, requests, 2, conns))
        load = measured(pid, lambda: asyncio.run(closed_loop(port, requests, args.seconds, conns)))
        backlog = app.backlog()
        stored, drain_s = app.wait_stored(warm.ok + load.ok)
        rss_after = rss_mib(pid)[0]
        print(
            f"  {load.rate:,.0f} events/s, {stored:,} stored; latency at {args.rate:,.0f}/s "
            "with time-to-visible probes…",
            flush=True,
        )
        latency, ttv_load = asyncio.run(
            latency_with_probes(app, requests, args.rate, args.latency_seconds, conns)
        )
        accepted = warm.ok + load.ok + latency.ok
        stored, _ = app.wait_stored(accepted)
        ttv_idle = asyncio.run(time_to_visible(app, requests, args.probes))
        rss_after, rss_peak = max(rss_after, rss_mib(pid)[0]), rss_mib(pid)[1]
    finally:
        app.server.stop()
    bare = start_bare(work)
    try:
        print("bare Litestar baseline…", flush=True)
        requests = TrackRequests(bare.port, app.client_id)
        asyncio.run(closed_loop(bare.port, requests, 2, conns))
        bare_load = measured(
            bare.proc.pid,
            lambda: asyncio.run(closed_loop(bare.port, requests, args.seconds, conns)),
        )
        bare_latency = asyncio.run(
            open_loop(bare.port, requests, args.rate, args.latency_seconds, conns)
        )
    finally:
        bare.stop()
    return Figures(
        load,
        bare_load,
        latency,
        bare_latency,
        accepted,
        stored,
        backlog,
        drain_s,
        ttv_load,
        ttv_idle,
        rss_idle,
        rss_after,
        rss_peak,
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Ingest benchmark (see docs/benchmarks.md).")
    parser.add_argument("--seconds", type=float, default=20, help="throughput run length")
    parser.add_argument("--connections", type=int, default=64, help="keep-alive connections")
    parser.add_argument("--rate", type=float, default=1000, help="offered events/s, latency run")
    parser.add_argument("--latency-seconds", type=float, default=10)
    parser.add_argument("--probes", type=int, default=20, help="idle time-to-visible samples")
    parser.add_argument("--geoip-db", type=Path, default=None, help="a City .mmdb for geo")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, data)")
    return parser.parse_args(argv)


@contextlib.contextmanager
def workdir(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="openpanel-bench-"))
    try:
        yield path
    finally:
        if keep:
            print(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    with workdir(args.keep) as work:
        figures = run(args, work)
    print(report(figures, args))
    return 0 if figures.stored == figures.accepted else 1


if __name__ == "__main__":
    sys.exit(main())
