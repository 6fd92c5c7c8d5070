"""The running appliance on this machine, over HTTP: the CLI's way to reach a data directory
that the server owns (chDB allows one process per directory).

Requests carry the local-admin token the server keeps in its data directory (readable only by
the user the server runs as), or a root client's id and secret.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import click
import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from appliance.errors import AppError
from appliance.settings import Settings, load_settings

ADMIN_HEADER = "openpanel-admin-token"
_console = Console(stderr=True)


class Remote:
    """The running server on this data directory, over HTTP."""

    def __init__(self, settings: Settings, client_id: str = "", secret: str = "") -> None:
        url_file = settings.data_dir / "server-url"
        self.base = (
            url_file.read_text(encoding="utf-8").strip() if url_file.is_file() else ""
        ) or settings.base_url
        token_file = settings.data_dir / "local-admin.token"
        self.headers: dict[str, str] = {}
        if client_id and secret:
            self.headers = {"openpanel-client-id": client_id, "openpanel-client-secret": secret}
        elif token_file.is_file() and os.access(token_file, os.R_OK):
            self.headers = {ADMIN_HEADER: token_file.read_text(encoding="utf-8").strip()}
        else:
            raise click.ClickException(
                f"the server on {settings.data_dir} is running and this user cannot read its "
                "local-admin token; run as the server's user, or create a root client "
                "(openpanel client create --type root --project <id>) and pass --client-id/"
                "--client-secret (or OPENPANEL_CLIENT_ID/OPENPANEL_CLIENT_SECRET)"
            )

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            reply = httpx.request(
                method, self.base + path, headers=self.headers, timeout=600, **kwargs
            )
        except httpx.HTTPError as exc:
            raise click.ClickException(f"the server at {self.base} did not answer: {exc}") from None
        if reply.status_code >= 400:
            raise click.ClickException(f"{method} {path}: {reply.status_code} {reply.text[:500]}")
        return reply


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[phase]}"),
        TimeElapsedColumn(),
        console=_console,
        transient=True,
    )


def import_remote(
    remote: Remote, path: Path, project_id: str, fmt: str, options: dict[str, Any], dry_run: bool
) -> dict[str, Any]:
    params = {
        "projectId": project_id,
        "format": fmt,
        "name": path.name,
        "map": ",".join(f"{k}={v}" for k, v in options["mapping"].items()),
        "origin": options["origin"],
        "logFormat": options["log_format"],
        "encoding": options["encoding"],
        "dryRun": "true" if dry_run else "",
    }
    with path.open("rb") as handle:
        reply = remote.call("POST", "/import/file", params=params, content=handle)
    answer = reply.json()
    if dry_run:
        return dict(answer)
    import_id = answer["importId"]
    with progress_bar() as bar:
        task = bar.add_task(path.name, total=1, phase="queued")
        while True:
            status = remote.call("GET", f"/import/jobs/{import_id}").json()
            total = max(int(status.get("chunks_total") or 1), 1)
            bar.update(
                task, completed=status.get("chunks_done", 0), total=total, phase=status["status"]
            )
            if status["status"] in ("done", "failed"):
                break
            time.sleep(0.3)
    if status["status"] == "failed":
        raise click.ClickException(f"{path.name}: {status.get('error')}")
    if "events" not in status:  # refused before the ledger knew it
        raise click.ClickException(f"{path.name}: the server did not import the file")
    return {
        "file": path.name,
        "format": status["format"],
        "importId": import_id,
        "status": status["status"],
        "events": status["events"],
        "sessions": status["sessions"],
        "rowsRead": status["rows_read"],
        "skipped": status["skipped"],
        "notes": [],
        "firstAt": status["first_at"],
        "lastAt": status["last_at"],
    }


def open_in_appliance(path: Path, base_url: str, data_dir: Path | None = None) -> str:
    """Hand an event file to the running server at `base_url` (the desktop app's "Open event
    file…"): it is imported into the project "Imported files"; returns a message."""
    from embedded_db.meta import MetaStore

    settings = load_settings({"data_dir": data_dir})
    meta = MetaStore(settings.meta_db)
    try:
        found = [p for p in meta.list_projects() if p.name == "Imported files"]
        project = found[0] if found else meta.create_project("Imported files")
    finally:
        meta.close()
    token = (settings.data_dir / "local-admin.token").read_text(encoding="utf-8").strip()
    with path.open("rb") as handle:
        reply = httpx.post(
            base_url.rstrip("/") + "/import/file",
            params={"projectId": project.id, "name": path.name},
            headers={ADMIN_HEADER: token},
            content=handle,
            timeout=600,
        )
    if reply.status_code >= 400:
        raise AppError(f"the import was refused: {reply.text[:300]}")
    return f"Importing {path.name} into the project {project.name!r}…"
