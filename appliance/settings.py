"""The one settings registry: every knob has a name, a type, a default, help text and an env var.

Settings are read once, by `load_settings()`, from `OPENPANEL_<NAME>` environment variables and
explicit overrides (CLI flags). Nothing reads the environment at import time. README.md carries the
same table; `tests/appliance/test_settings.py` keeps the two in sync.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from appliance.errors import ConfigError

ENV_PREFIX = "OPENPANEL_"


@dataclass(frozen=True, slots=True)
class Setting:
    """One entry of the registry."""

    name: str
    type: type
    default: Any
    help: str

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "data_dir",
        Path,
        None,
        "Data directory (events/, meta.db, spool.db, jobs.db). "
        "Default: the platform's user data folder.",
    ),
    Setting("host", str, "127.0.0.1", "Interface the HTTP server listens on (0.0.0.0 in Docker)."),
    Setting("port", int, 3000, "TCP port of the HTTP server."),
    Setting(
        "public_url",
        str,
        "",
        "URL the SDKs reach the appliance at, shown in snippets. Default: http://<host>:<port>.",
    ),
    Setting("log_level", str, "info", "Logging level: debug, info, warning, error."),
    Setting("log_json", bool, False, "Write logs as JSON lines."),
    Setting("chdb_memory_limit_mb", int, 1024, "Upper bound of chDB's query memory, in MiB."),
    Setting("chdb_mark_cache_mb", int, 64, "Size of chDB's mark cache, in MiB."),
    Setting("chdb_uncompressed_cache_mb", int, 0, "Size of chDB's uncompressed block cache, MiB."),
    Setting("chdb_readers", int, 2, "Number of chDB reader sessions (queries run in parallel)."),
    Setting(
        "max_body_kb",
        int,
        4096,
        "Largest accepted request body, in KiB (replay chunks can reach 2 MiB).",
    ),
    Setting("session_timeout_minutes", int, 30, "Idle time after which a visit ends."),
    Setting("batch_max_events", int, 5000, "Largest batch the pipeline inserts at once."),
    Setting(
        "batch_interval_ms",
        int,
        500,
        "Longest time an accepted event waits in the spool before it is stored (time to visible).",
    ),
    Setting(
        "spool_commit_ms",
        int,
        2,
        "Group-commit window of the spool: requests arriving "
        "within it share one SQLite transaction.",
    ),
    Setting(
        "spool_fsync",
        bool,
        True,
        "fsync the spool on every commit (survives power loss, "
        "not just a crash). Off trades power-loss safety for speed.",
    ),
    Setting(
        "dedup_window_ms",
        int,
        100,
        "Identical requests from one browser within this window are answered but stored once.",
    ),
    Setting("ip_headers", str, "", "Comma list replacing the default client-IP header order."),
    Setting(
        "store_ip",
        bool,
        False,
        "Keep the client IP in event properties (__ip). Off by "
        "default: IPs are used for geo and device ids, then dropped.",
    ),
    Setting(
        "geoip_db",
        Path,
        None,
        "Path to a MaxMind-layout City .mmdb (GeoLite2 or DB-IP "
        "lite). Default: <data_dir>/geoip/*.mmdb if present; no geo otherwise.",
    ),
    Setting(
        "client_cache_seconds",
        int,
        5,
        "How long a looked-up API client is cached (new or "
        "revoked clients take effect within this time).",
    ),
    Setting(
        "api_rate_limit",
        int,
        100,
        "Requests per 10 s allowed per client on the export and insights APIs.",
    ),
    Setting("jobs_workers", int, 1, "Threads of the in-process Huey consumer."),
    Setting(
        "dashboard_local_mode",
        bool,
        False,
        "Log browsers on this machine (loopback) into the dashboard as the owner without a "
        "password (the desktop app). Never enable on a shared or exposed server.",
    ),
)

REGISTRY: dict[str, Setting] = {s.name: s for s in SETTINGS}


@dataclass(frozen=True, slots=True)
class Settings:
    """Resolved settings of one appliance process."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 3000
    public_url: str = ""
    log_level: str = "info"
    log_json: bool = False
    chdb_memory_limit_mb: int = 1024
    chdb_mark_cache_mb: int = 64
    chdb_uncompressed_cache_mb: int = 0
    chdb_readers: int = 2
    max_body_kb: int = 4096
    session_timeout_minutes: int = 30
    batch_max_events: int = 5000
    batch_interval_ms: int = 500
    spool_commit_ms: int = 2
    spool_fsync: bool = True
    dedup_window_ms: int = 100
    ip_headers: str = ""
    store_ip: bool = False
    geoip_db: Path | None = None
    client_cache_seconds: int = 5
    api_rate_limit: int = 100
    jobs_workers: int = 1
    dashboard_local_mode: bool = False

    @property
    def events_dir(self) -> Path:
        return self.data_dir / "events"

    @property
    def meta_db(self) -> Path:
        return self.data_dir / "meta.db"

    @property
    def spool_db(self) -> Path:
        return self.data_dir / "spool.db"

    @property
    def jobs_db(self) -> Path:
        return self.data_dir / "jobs.db"

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"

    def resolved_geoip_db(self) -> Path | None:
        """The configured GeoIP database, or the first .mmdb in <data_dir>/geoip."""
        if self.geoip_db is not None:
            return self.geoip_db
        folder = self.data_dir / "geoip"
        found = sorted(folder.glob("*.mmdb")) if folder.is_dir() else []
        return found[0] if found else None


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def parse_value(setting: Setting, raw: Any) -> Any:
    """Convert a raw (string) value to the setting's type; raise ConfigError naming it."""
    if raw is None or isinstance(raw, setting.type):
        return raw
    text = str(raw).strip()
    try:
        if setting.type is bool:
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
            raise ValueError(text)
        if setting.type is int:
            return int(text)
        if setting.type is Path:
            return Path(text).expanduser() if text else None
        return text
    except ValueError:
        raise ConfigError(
            f"setting {setting.name} ({setting.env}) expects {setting.type.__name__}, got {text!r}"
        ) from None


def default_data_dir() -> Path:
    """The platform's per-user data folder for the appliance."""
    import platformdirs

    return Path(platformdirs.user_data_dir("openpanel-appliance", appauthor=False))


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings from defaults, then `OPENPANEL_*` env vars, then explicit overrides (CLI)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.env in env:
            values[setting.name] = parse_value(setting, env[setting.env])
    for name, raw in (overrides or {}).items():
        if raw is None:
            continue
        if name not in REGISTRY:
            raise ConfigError(f"unknown setting {name!r}")
        values[name] = parse_value(REGISTRY[name], raw)
    if values.get("data_dir") is None:
        values["data_dir"] = default_data_dir()
    settings = Settings(**values)
    _validate(settings)
    return settings


def _validate(settings: Settings) -> None:
    positive = (
        "port",
        "chdb_memory_limit_mb",
        "chdb_readers",
        "max_body_kb",
        "session_timeout_minutes",
        "batch_max_events",
        "batch_interval_ms",
        "client_cache_seconds",
        "api_rate_limit",
        "jobs_workers",
    )
    for name in positive:
        if getattr(settings, name) <= 0:
            raise ConfigError(f"setting {name} must be positive, got {getattr(settings, name)}")
    if settings.log_level.lower() not in ("debug", "info", "warning", "error"):
        raise ConfigError(
            f"setting log_level must be debug/info/warning/error, got {settings.log_level!r}"
        )


def settings_table_markdown() -> str:
    """The README settings table, generated from the registry."""
    lines = ["| setting | env | default | what it does |", "|---|---|---|---|"]
    for s in SETTINGS:
        default = (
            ""
            if s.default is None
            else str(s.default).lower()
            if s.type is bool
            else str(s.default)
        )
        lines.append(f"| `{s.name}` | `{s.env}` | `{default}` | {s.help} |")
    return "\n".join(lines)


assert {f.name for f in fields(Settings)} == set(REGISTRY), "Settings and SETTINGS disagree"
