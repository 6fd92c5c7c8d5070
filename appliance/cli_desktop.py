"""`openpanel desktop` (the appliance in a native window, data in the user's data folder) and
`openpanel demo` (a Demo project with generated traffic)."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import click

from appliance.errors import AppError
from appliance.logs import configure_logging
from appliance.settings import REGISTRY, Settings, load_settings

# Settings the dashboard may offer for a single local user without a login; whichever exists is
# switched on by the desktop app (only the desktop user can reach 127.0.0.1 on this machine).
LOCAL_MODE_SETTINGS = ("dashboard_local_mode", "local_mode")


def local_mode_overrides() -> dict[str, Any]:
    """`{name: True}` for every boolean local-mode setting the registry knows."""
    return {
        name: True
        for name in LOCAL_MODE_SETTINGS
        if name in REGISTRY and REGISTRY[name].type is bool
    }


def desktop_settings(data_dir: Path | None, port: int | None) -> Settings:
    """Settings of the desktop app: env and flags as for `serve`, always on 127.0.0.1 (local
    mode lets this machine in without a password). Raises click.ClickException on bad values."""
    overrides: dict[str, Any] = {
        "data_dir": data_dir,
        "port": port,
        "host": "127.0.0.1",
        **local_mode_overrides(),
    }
    try:
        return load_settings(overrides)
    except AppError as exc:
        raise click.ClickException(str(exc)) from None


@click.command("desktop")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=REGISTRY["data_dir"].help + f" [env {REGISTRY['data_dir'].env}]",
)
@click.option(
    "--port",
    type=int,
    default=None,
    help="Preferred ingest port (default 3000; the next free one if it is busy).",
)
@click.option(
    "--path",
    "start_path",
    default=None,
    metavar="PATH",
    help="Page to open first (default: the dashboard, or a welcome page).",
)
@click.option("--gui", default=None, help="pywebview backend (default: qt on Linux).")
def desktop(
    data_dir: Path | None, port: int | None, start_path: str | None, gui: str | None
) -> None:
    """Open the appliance in a desktop window; closing it stops the server cleanly.

    SDKs on this computer can send events to the ingest port shown in the window title. A second
    launch brings the running window to the front.
    """
    settings = desktop_settings(data_dir, port)
    configure_logging(settings.log_level, settings.log_json)
    if start_path is not None and not start_path.startswith("/"):
        raise click.BadParameter("must start with /", param_hint="--path")
    if find_spec("webview") is None:  # the GUI extra is optional (servers, Docker)
        raise click.ClickException(
            "the desktop app needs the 'desktop' extra: pip install 'openpanel-appliance[desktop]'"
        )
    from appliance.desktop import DesktopOptions, run_desktop

    sys.exit(run_desktop(settings, DesktopOptions(start_path=start_path, gui=gui)))


@click.command("demo")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=REGISTRY["data_dir"].help + f" [env {REGISTRY['data_dir'].env}]",
)
@click.option("--events", type=int, default=100_000, show_default=True, help="About this many.")
@click.option("--days", type=int, default=30, show_default=True, help="Days of traffic.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same traffic.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def demo(data_dir: Path | None, events: int, days: int, seed: int, as_json: bool) -> None:
    """Create a "Demo" project with 30 days of realistic traffic (run it while stopped).

    The traffic is generated (seeded: the same every time) and ends today at 00:00 UTC. An
    existing Demo project is left as it is.
    """
    from appliance.demo import create_demo

    try:
        settings = load_settings({"data_dir": data_dir})
        configure_logging(settings.log_level, settings.log_json)
        result = create_demo(settings, events=events, days=days, seed=seed)
    except AppError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(asdict(result)))
    elif not result.created:
        click.echo(f"the Demo project already exists ({result.project_id}); nothing to do")
    else:
        click.echo(
            f"Demo project {result.project_id!r}: {result.events:,} events, "
            f"{result.sessions:,} visits, {result.profiles:,} profiles "
            f"({days} days, {result.seconds:.1f} s) in {settings.data_dir}"
        )
        click.echo(
            f"  write client: {result.client_id}  secret: {result.client_secret}  (shown once)"
        )
