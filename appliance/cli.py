"""The `openpanel` command line: serve, migrate, projects and API clients.

`project` and `client` commands touch only SQLite (meta.db), so they work while the server runs;
the server picks new clients up within `client_cache_seconds`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from appliance import cli_files
from appliance.cli_desktop import demo, desktop
from appliance.errors import AppError
from appliance.logs import configure_logging
from appliance.settings import REGISTRY, Settings, load_settings, settings_table_markdown

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=REGISTRY["data_dir"].help + f" [env {REGISTRY['data_dir'].env}]",
)


def _settings(**overrides: Any) -> Settings:
    try:
        return load_settings(overrides)
    except AppError as exc:
        raise click.ClickException(str(exc)) from None


def _emit(data: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(data))
    else:
        for line in lines:
            click.echo(line)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="openpanel-appliance", prog_name="openpanel")
def cli() -> None:
    """OpenPanel Appliance: OpenPanel-compatible product analytics in one process.

    Start the server with `openpanel serve`, then create a project with
    `openpanel project create "My site" --cors https://example.com` and point any official
    OpenPanel SDK at the server's URL. Every setting can also be given as an OPENPANEL_* env var
    (see `openpanel settings`).
    """


@cli.command()
@data_dir_option
@click.option("--host", default=None, help=REGISTRY["host"].help)
@click.option("--port", type=int, default=None, help=REGISTRY["port"].help)
@click.option(
    "--geoip-db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=REGISTRY["geoip_db"].help,
)
@click.option("--log-level", default=None, help=REGISTRY["log_level"].help)
@click.option(
    "--get",
    "get_path",
    default=None,
    metavar="PATH",
    help="Start in-process, request PATH (e.g. /-/health), print the reply and exit.",
)
def serve(
    data_dir: Path | None,
    host: str | None,
    port: int | None,
    geoip_db: Path | None,
    log_level: str | None,
    get_path: str | None,
) -> None:
    """Run the appliance: ingest API, query APIs and background jobs in one process."""
    settings = _settings(
        data_dir=data_dir, host=host, port=port, geoip_db=geoip_db, log_level=log_level
    )
    configure_logging(settings.log_level, settings.log_json)
    from appliance.server import request_once, run_server

    try:
        if get_path:
            status, body = request_once(settings, get_path)
            click.echo(body)
            sys.exit(0 if status < 400 else 1)
        run_server(settings)
    except AppError as exc:
        raise click.ClickException(str(exc)) from None


@cli.command()
@data_dir_option
def migrate(data_dir: Path | None) -> None:
    """Apply pending schema migrations to the event store and the metadata store."""
    settings = _settings(data_dir=data_dir)
    from appliance.app import open_stores

    try:
        store, meta = open_stores(settings)
    except AppError as exc:
        raise click.ClickException(str(exc)) from None
    store.close()
    meta.close()
    click.echo(f"migrations applied in {settings.data_dir}")


@cli.command("settings")
def show_settings() -> None:
    """Print every setting with its env var, default and meaning (Markdown)."""
    click.echo(settings_table_markdown())


@cli.group()
def project() -> None:
    """Create and list projects."""


@project.command("create")
@click.argument("name")
@data_dir_option
@click.option("--cors", multiple=True, help="Allowed browser origin (repeatable; * wildcards).")
@click.option("--domain", default="", help="The site's domain, for display.")
@click.option("--timezone", default="UTC", show_default=True, help="IANA timezone for reports.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def project_create(
    name: str,
    data_dir: Path | None,
    cors: tuple[str, ...],
    domain: str,
    timezone: str,
    as_json: bool,
) -> None:
    """Create a project and its first write client (the secret is shown once)."""
    meta = _meta(data_dir)
    try:
        proj = meta.create_project(name, cors=list(cors), domain=domain, timezone=timezone)
        new = meta.create_client(project_id=proj.id, type="write", name=f"{name} (default)")
    except AppError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        meta.close()
    cors_text = ", ".join(proj.cors) or "(none: only secret-authenticated calls)"
    _emit(
        {"project_id": proj.id, "client_id": new.client.id, "client_secret": new.secret},
        as_json,
        [
            f"project:        {proj.id}",
            f"client id:      {new.client.id}",
            f"client secret:  {new.secret}   (shown once; store it now)",
            f"cors:           {cors_text}",
        ],
    )


@project.command("list")
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def project_list(data_dir: Path | None, as_json: bool) -> None:
    """List projects."""
    meta = _meta(data_dir)
    try:
        projects = meta.list_projects()
    finally:
        meta.close()
    rows = [
        {"id": p.id, "name": p.name, "cors": list(p.cors), "timezone": p.timezone} for p in projects
    ]
    if as_json:
        click.echo(json.dumps(rows))
    else:
        for r in rows:
            click.echo(f"{r['id']:<30} {r['name']:<30} {', '.join(r['cors'])}")


@cli.group()
def client() -> None:
    """Create, list and revoke API clients."""


@client.command("create")
@click.option("--project", "project_id", required=True, help="Project id.")
@click.option(
    "--type",
    "type_",
    type=click.Choice(["write", "read", "root"]),
    default="write",
    show_default=True,
    help="write = ingest; read = export/insights; root = all.",
)
@click.option("--name", default="", help="A label for the client.")
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def client_create(
    project_id: str, type_: str, name: str, data_dir: Path | None, as_json: bool
) -> None:
    """Create an API client; its secret is printed once and stored only as a hash."""
    meta = _meta(data_dir)
    try:
        new = meta.create_client(project_id=project_id, type=type_, name=name)
    except AppError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        meta.close()
    _emit(
        {"client_id": new.client.id, "client_secret": new.secret, "type": type_},
        as_json,
        [
            f"client id:      {new.client.id}",
            f"client secret:  {new.secret}   (shown once)",
            f"type:           {type_}",
        ],
    )


@client.command("list")
@click.option("--project", "project_id", default=None, help="Only this project's clients.")
@data_dir_option
def client_list(project_id: str | None, data_dir: Path | None) -> None:
    """List active clients (secrets are never shown again)."""
    meta = _meta(data_dir)
    try:
        for c in meta.list_clients(project_id):
            click.echo(f"{c.id}  {c.type:<5}  {c.project_id or '(organization)':<30} {c.name}")
    finally:
        meta.close()


@client.command("revoke")
@click.argument("client_id")
@data_dir_option
def client_revoke(client_id: str, data_dir: Path | None) -> None:
    """Revoke a client; the server refuses it within client_cache_seconds."""
    meta = _meta(data_dir)
    try:
        meta.revoke_client(client_id)
    except AppError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        meta.close()
    click.echo(f"revoked {client_id}")


cli.add_command(desktop)
cli.add_command(demo)
cli.add_command(cli_files.import_files)
cli.add_command(cli_files.export_events_command)
cli.add_command(cli_files.analyze)
cli.add_command(cli_files.delete_profile_command)
cli.add_command(cli_files.retention_command)
cli.add_command(cli_files.delete_project_data_command)


def _meta(data_dir: Path | None) -> Any:
    from embedded_db.meta import MetaStore

    settings = _settings(data_dir=data_dir)
    return MetaStore(settings.meta_db)


def main() -> None:
    cli(prog_name="openpanel")


if __name__ == "__main__":
    main()
