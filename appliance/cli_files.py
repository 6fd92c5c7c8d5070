"""`openpanel import`, `export`, `analyze`, `delete-profile` and `retention`: event files in and
out, offline analysis, and the data lifecycle from the command line.

The server owns a running data directory (chDB allows one process per directory). When it is
running, `import`, `export` and `delete-profile` go through its HTTP API, authenticated by the
local-admin token it keeps in the data directory (readable only by its owner) or by a root
client's id and secret; otherwise they open the stores themselves.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import httpx

from appliance import remote
from appliance.errors import AppError
from appliance.remote import Remote, import_remote, progress_bar
from appliance.settings import REGISTRY, Settings, load_settings
from embedded_db.imports.sniff import FORMATS
from embedded_db.store import data_dir_in_use

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=REGISTRY["data_dir"].help + f" [env {REGISTRY['data_dir'].env}]",
)
client_options = [
    click.option("--client-id", envvar="OPENPANEL_CLIENT_ID", default="", help="Root client id."),
    click.option(
        "--client-secret", envvar="OPENPANEL_CLIENT_SECRET", default="", help="Its secret."
    ),
]


def _with_client(fn: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(client_options):
        fn = option(fn)
    return fn


def _settings(data_dir: Path | None, **extra: Any) -> Settings:
    try:
        return load_settings({"data_dir": data_dir, **extra})
    except AppError as exc:
        raise click.ClickException(str(exc)) from None


def _is_running(settings: Settings) -> bool:
    return data_dir_in_use(settings.events_dir)


# -- import ---------------------------------------------------------------------------------------
@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--project", "project_id", required=True, help="Project to import into.")
@click.option("--format", "fmt", type=click.Choice(["auto", *FORMATS]), default="auto")
@click.option("--map", "mapping", multiple=True, help="Column mapping: created_at=ts,name=event")
@click.option("--origin", default="", help="Site origin for access logs (https://example.com).")
@click.option("--log-format", default="", help="nginx log_format or Apache LogFormat string.")
@click.option("--encoding", default="utf-8", help="CSV encoding (utf-8, latin-1, utf-16).")
@click.option("--max-line-mb", type=float, default=16.0, help="Longest line accepted (MiB).")
@click.option("--dry-run", is_flag=True, help="Read and count, store nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@data_dir_option
@_with_client
def import_files(
    files: tuple[str, ...],
    project_id: str,
    fmt: str,
    mapping: tuple[str, ...],
    origin: str,
    log_format: str,
    encoding: str,
    max_line_mb: float,
    dry_run: bool,
    as_json: bool,
    data_dir: Path | None,
    client_id: str,
    client_secret: str,
) -> None:
    """Import event files (OpenPanel exports, Umami, Mixpanel, Amplitude, GA4, PostHog,
    Plausible, web server logs, or any CSV/NDJSON/Parquet with --map) into a project."""
    from embedded_db.imports.formats import parse_map

    settings = _settings(data_dir)
    options = {
        "mapping": parse_map(list(mapping)) if mapping else {},
        "origin": origin,
        "log_format": log_format,
        "encoding": encoding,
        "max_line_mb": max_line_mb,
    }
    paths = [Path(f) for f in files]
    if _is_running(settings):
        remote = Remote(settings, client_id, client_secret)
        results = [import_remote(remote, p, project_id, fmt, options, dry_run) for p in paths]
    else:
        results = _import_local(settings, paths, project_id, fmt, options, dry_run)
    _print_results(results, as_json)


def _import_local(
    settings: Settings,
    paths: list[Path],
    project_id: str,
    fmt: str,
    options: dict[str, Any],
    dry_run: bool,
) -> list[dict[str, Any]]:
    from appliance.app import open_stores
    from jobs.enrich.geo import GeoReader
    from jobs.import_tasks import options_of
    from jobs.imports import Importer, LiveLookups

    try:
        store, meta = open_stores(settings)
    except AppError as exc:
        raise click.ClickException(str(exc)) from None
    importer = Importer(
        store,
        meta,
        settings.data_dir / "imports",
        LiveLookups(GeoReader(settings.resolved_geoip_db())),
        timeout_ms=settings.session_timeout_minutes * 60_000,
        memory_mb=settings.chdb_memory_limit_mb,
    )
    results = []
    try:
        with progress_bar() as bar:
            for path in paths:
                task = bar.add_task(path.name, total=1, phase="")

                def report(phase: str, done: int, total: int, task: Any = task) -> None:
                    bar.update(task, completed=done, total=max(total, 1), phase=phase)

                try:
                    result = importer.run(
                        path,
                        project_id,
                        options_of(options),
                        fmt=fmt,
                        dry_run=dry_run,
                        progress=report,
                    )
                except AppError as exc:
                    raise click.ClickException(str(exc)) from None
                results.append(result.as_json())
    finally:
        store.close()
        meta.close()
    return results


def _print_results(results: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(results))
        return
    for r in results:
        click.echo(
            f"{r['file']}: {r['status']} ({r['format']}) — {r['events']:,} events, "
            f"{r['sessions']:,} visits from {r['rowsRead']:,} rows"
            + (f", {r['firstAt']} … {r['lastAt']} UTC" if r.get("firstAt") else "")
        )
        for reason, count in sorted(r.get("skipped", {}).items()):
            click.echo(f"  skipped {count:,}: {reason}")
        for note in r.get("notes", []):
            click.echo(f"  note: {note}")


# -- export ---------------------------------------------------------------------------------------
@click.command("export")
@click.option("--project", "project_id", required=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "ndjson", "parquet"]), default="csv")
@click.option("--from", "start", default="", help="First day or moment (UTC), e.g. 2024-05-01.")
@click.option("--to", "end", default="", help="Last day (inclusive) or moment (UTC).")
@click.option("--event", "events", multiple=True, help="Only these event names (repeatable).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@data_dir_option
@_with_client
def export_events_command(
    project_id: str,
    fmt: str,
    start: str,
    end: str,
    events: tuple[str, ...],
    output: Path | None,
    data_dir: Path | None,
    client_id: str,
    client_secret: str,
) -> None:
    """Export a project's events as CSV, NDJSON or Parquet (oldest first)."""
    settings = _settings(data_dir)
    target = output or Path(f"{project_id}-events.{fmt}")
    if _is_running(settings):
        remote = Remote(settings, client_id, client_secret)
        params: dict[str, Any] = {
            "projectId": project_id,
            "format": fmt,
            "start": start,
            "end": end,
        }
        if events:
            params["event"] = list(events)
        with httpx.stream(
            "GET",
            remote.base + "/export/events",
            params=params,
            headers=remote.headers,
            timeout=600,
        ) as reply:
            if reply.status_code >= 400:
                raise click.ClickException(f"export: {reply.status_code} {reply.read()[:500]!r}")
            with target.open("wb") as out:
                for block in reply.iter_bytes():
                    out.write(block)
        click.echo(f"wrote {target}")
        return
    count = _export_local(settings, project_id, fmt, start, end, list(events), target)
    click.echo(f"wrote {count:,} events to {target}")


def _export_local(
    settings: Settings,
    project_id: str,
    fmt: str,
    start: str,
    end: str,
    events: list[str],
    target: Path,
) -> int:
    from appliance.app import open_stores
    from embedded_db.export_files import export_to_file
    from embedded_db.exports import EventQuery, parse_date

    try:
        store, meta = open_stores(settings)
    except AppError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        meta.get_project(project_id)
        query = EventQuery(
            project_id=project_id,
            events=events,
            start=parse_date(start, "from"),
            end=parse_date(end, "to", end_of_day=True),
        )
        return export_to_file(store, query, fmt, target)
    except AppError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
        meta.close()


# The desktop app's "Open event file…" looks the importer up here.
open_in_appliance = remote.open_in_appliance


# -- analyze --------------------------------------------------------------------------------------
def open_dashboard(url: str) -> None:
    """Show the dashboard (the desktop app may replace this hook with its own window)."""
    webbrowser.open(url)


@click.command("analyze")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--workspace", default="", help="Keep the data in this named workspace.")
@click.option("--format", "fmt", type=click.Choice(["auto", *FORMATS]), default="auto")
@click.option("--map", "mapping", multiple=True, help="Column mapping: created_at=ts,name=event")
@click.option("--port", type=int, default=None, help="Port of the local server (default 3000).")
@click.option("--no-open", is_flag=True, help="Do not open a browser.")
@click.option("--no-serve", is_flag=True, help="Import only (print the data directory).")
def analyze(
    files: tuple[str, ...],
    workspace: str,
    fmt: str,
    mapping: tuple[str, ...],
    port: int | None,
    no_open: bool,
    no_serve: bool,
) -> None:
    """Look at event files offline: import them into a throwaway (or named) workspace, start
    the server on 127.0.0.1 and open the dashboard."""
    from embedded_db.imports.formats import parse_map
    from embedded_db.meta import MetaStore

    holder = None
    if workspace:
        base = _settings(None).data_dir.parent / "openpanel-workspaces" / workspace
    else:
        holder = tempfile.TemporaryDirectory(prefix="openpanel-analyze-")
        base = Path(holder.name)
    settings = _settings(base, host="127.0.0.1", port=port)
    meta = MetaStore(settings.meta_db)
    try:
        existing = [p for p in meta.list_projects() if p.name == "Analysis"]
        project = existing[0] if existing else meta.create_project("Analysis")
    finally:
        meta.close()
    options = {
        "mapping": parse_map(list(mapping)) if mapping else {},
        "origin": "",
        "log_format": "",
        "encoding": "utf-8",
        "max_line_mb": 16.0,
    }
    results = _import_local(settings, [Path(f) for f in files], project.id, fmt, options, False)
    _print_results(results, False)
    click.echo(f"workspace: {settings.data_dir} (project {project.id})")
    if no_serve:
        return
    from appliance.server import run_server

    url = f"{settings.base_url}/"
    if not no_open:
        threading.Thread(target=_open_when_ready, args=(url,), daemon=True).start()
    try:
        run_server(settings)
    finally:
        if holder is not None:
            holder.cleanup()


def _open_when_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "-/health", timeout=2).status_code == 200:
                open_dashboard(url)
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)


# -- lifecycle ------------------------------------------------------------------------------------
@click.command("delete-profile")
@click.argument("profile_id")
@click.option("--project", "project_id", required=True)
@data_dir_option
@_with_client
def delete_profile_command(
    profile_id: str, project_id: str, data_dir: Path | None, client_id: str, client_secret: str
) -> None:
    """Erase one person's data (GDPR): profile, visits and events."""
    settings = _settings(data_dir)
    if _is_running(settings):
        remote = Remote(settings, client_id, client_secret)
        answer = remote.call(
            "DELETE", f"/manage/profiles/{profile_id}", params={"projectId": project_id}
        ).json()
    else:
        from appliance.app import open_stores
        from embedded_db.lifecycle import delete_profile

        store, meta = open_stores(settings)
        try:
            meta.get_project(project_id)
            erased = delete_profile(store, project_id, profile_id)
        except AppError as exc:
            raise click.ClickException(str(exc)) from None
        finally:
            store.close()
            meta.close()
        answer = {"events": erased.events, "sessions": erased.sessions, "profiles": erased.profiles}
    click.echo(
        f"erased {profile_id}: {answer['events']} events, {answer['sessions']} visits, "
        f"{answer['profiles']} profile"
    )


@click.command("retention")
@click.option("--project", "project_id", required=True)
@click.option("--days", type=int, default=None, help="Keep this many days (0 = forever).")
@data_dir_option
def retention_command(project_id: str, days: int | None, data_dir: Path | None) -> None:
    """Show or set how long a project's events and visits are kept (applied daily)."""
    from embedded_db.lifecycle import retention_days, set_retention_days
    from embedded_db.meta import MetaStore

    meta = MetaStore(_settings(data_dir).meta_db)
    try:
        if days is not None:
            set_retention_days(meta, project_id, days)
        current = retention_days(meta, project_id)
    except AppError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        meta.close()
    click.echo(f"{project_id}: " + (f"keeps {current} days" if current else "keeps everything"))


@click.command("delete-project-data")
@click.option("--project", "project_id", required=True)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@data_dir_option
@_with_client
def delete_project_data_command(
    project_id: str, yes: bool, data_dir: Path | None, client_id: str, client_secret: str
) -> None:
    """Delete every event, visit and profile of a project (its settings and clients stay)."""
    if not yes:
        click.confirm(f"Delete all data of project {project_id}?", abort=True)
    settings = _settings(data_dir)
    if _is_running(settings):
        Remote(settings, client_id, client_secret).call(
            "DELETE", f"/manage/projects/{project_id}/data"
        )
    else:
        from appliance.app import open_stores
        from embedded_db.lifecycle import delete_project_data

        store, meta = open_stores(settings)
        try:
            meta.get_project(project_id)
            delete_project_data(store, project_id)
        except AppError as exc:
            raise click.ClickException(str(exc)) from None
        finally:
            store.close()
            meta.close()
    click.echo(f"deleted the data of {project_id}")
