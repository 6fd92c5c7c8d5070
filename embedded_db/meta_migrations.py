"""MetaStore schema migrations: an ordered registry of functions, each applied once.

Append new steps at the end; never edit one that has shipped.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

Migration = Callable[[sqlite_utils.Database], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append((fn.__name__, fn))
    return fn


@migration
def m0001_create_accounts(db: sqlite_utils.Database) -> None:
    db.table("organizations").create(
        {"id": str, "name": str, "created_at": str}, pk="id", if_not_exists=True
    )
    db.table("projects").create(
        {
            "id": str,
            "organization_id": str,
            "name": str,
            "domain": str,
            "cors": str,
            "filters": str,
            "timezone": str,
            "allow_unsafe_revenue": int,
            "created_at": str,
            "deleted_at": str,
        },
        pk="id",
        foreign_keys=[("organization_id", "organizations", "id")],
        if_not_exists=True,
    )
    db.table("clients").create(
        {
            "id": str,
            "name": str,
            "type": str,
            "organization_id": str,
            "project_id": str,
            "secret_hash": str,
            "ignore_cors_and_secret": int,
            "created_at": str,
            "revoked_at": str,
        },
        pk="id",
        foreign_keys=[("organization_id", "organizations", "id"), ("project_id", "projects", "id")],
        if_not_exists=True,
    )
    db.table("salts").create({"salt": str, "created_at": str}, pk="salt", if_not_exists=True)


@migration
def m0002_create_dashboard_accounts(db: sqlite_utils.Database) -> None:
    """Dashboard users, organization members, invitation links, login sessions and the
    server's own secrets (e.g. the CSRF signing key). Tokens are stored as SHA-256 digests."""
    db.table("users").create(
        {
            "id": str,
            "email": str,
            "email_key": str,
            "name": str,
            "password_hash": str,
            "created_at": str,
            "password_changed_at": str,
        },
        pk="id",
        if_not_exists=True,
    )
    db.table("users").create_index(["email_key"], unique=True, if_not_exists=True)
    db.table("members").create(
        {"organization_id": str, "user_id": str, "role": str, "created_at": str},
        pk=("organization_id", "user_id"),
        foreign_keys=[("organization_id", "organizations", "id"), ("user_id", "users", "id")],
        if_not_exists=True,
    )
    db.table("invitations").create(
        {
            "id": str,
            "organization_id": str,
            "token_digest": str,
            "role": str,
            "email": str,
            "created_by": str,
            "created_at": str,
            "expires_at": str,
            "accepted_at": str,
            "accepted_by": str,
            "revoked_at": str,
        },
        pk="id",
        foreign_keys=[("organization_id", "organizations", "id")],
        if_not_exists=True,
    )
    db.table("invitations").create_index(["token_digest"], unique=True, if_not_exists=True)
    db.table("dashboard_sessions").create(
        {
            "id": str,
            "user_id": str,
            "created_at": str,
            "last_seen_at": str,
            "expires_at": str,
            "user_agent": str,
            "ip": str,
        },
        pk="id",
        foreign_keys=[("user_id", "users", "id")],
        if_not_exists=True,
    )
    db.table("dashboard_sessions").create_index(["user_id"], if_not_exists=True)
    db.table("server_secrets").create(
        {"name": str, "value": str, "created_at": str}, pk="name", if_not_exists=True
    )


@migration
def m0003_add_imports_and_retention(db: sqlite_utils.Database) -> None:
    """The import ledger (embedded_db/imports/ledger.py) and per-project retention in days."""
    if "retention_days" not in db.table("projects").columns_dict:
        db.table("projects").add_column("retention_days", int)
    db.table("imports").create(
        {
            "id": str,
            "project_id": str,
            "file_hash": str,
            "file_name": str,
            "format": str,
            "status": str,
            "attempt": int,
            "imported_at": str,
            "chunks_total": int,
            "chunks_done": int,
            "rows_read": int,
            "events": int,
            "sessions": int,
            "skipped": str,
            "first_at": str,
            "last_at": str,
            "error": str,
            "options": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        if_not_exists=True,
    )
    db.table("imports").create_index(["project_id", "file_hash"], if_not_exists=True)


@migration
def m0004_create_event_meta(db: sqlite_utils.Database) -> None:
    """What the dashboard knows about an event name beyond its rows (e.g. that it is a
    conversion), one row per project and event name (embedded_db/event_meta.py)."""
    db.table("event_meta").create(
        {
            "project_id": str,
            "name": str,
            "conversion": int,
            "updated_at": str,
            "updated_by": str,
        },
        pk=("project_id", "name"),
        foreign_keys=[("project_id", "projects", "id")],
        if_not_exists=True,
    )


@migration
def m0005_create_saved_reports(db: sqlite_utils.Database) -> None:
    """Saved reports (OpenPanel's Report fields), dashboards, the grid placing reports on them
    and public share links (embedded_db/saved_reports.py)."""
    db.table("reports").create(
        {
            "id": str,
            "project_id": str,
            "name": str,
            "chart_type": str,
            "interval": str,
            "range": str,
            "start_date": str,
            "end_date": str,
            "series": str,
            "breakdowns": str,
            "global_filters": str,
            "formula": str,
            "metric": str,
            "previous": int,
            "criteria": str,
            "funnel_group": str,
            "funnel_window": float,
            "options": str,
            "created_by": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        foreign_keys=[("project_id", "projects", "id")],
        if_not_exists=True,
    )
    db.table("reports").create_index(["project_id", "updated_at"], if_not_exists=True)
    db.table("dashboards").create(
        {
            "id": str,
            "project_id": str,
            "name": str,
            "created_by": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        foreign_keys=[("project_id", "projects", "id")],
        if_not_exists=True,
    )
    db.table("report_layouts").create(
        {"dashboard_id": str, "report_id": str, "position": int, "w": int, "h": int},
        pk=("dashboard_id", "report_id"),
        foreign_keys=[("dashboard_id", "dashboards", "id"), ("report_id", "reports", "id")],
        if_not_exists=True,
    )
    db.table("shares").create(
        {
            "id": str,
            "project_id": str,
            "kind": str,
            "dashboard_id": str,
            "password_hash": str,
            "created_by": str,
            "created_at": str,
            "revoked_at": str,
        },
        pk="id",
        foreign_keys=[("project_id", "projects", "id")],
        if_not_exists=True,
    )
    db.table("shares").create_index(["project_id"], if_not_exists=True)


def apply_migrations(db: sqlite_utils.Database) -> list[str]:
    """Apply pending migrations in order inside one transaction each; return their names."""
    db.table("_migrations").create({"name": str, "applied_at": str}, pk="name", if_not_exists=True)
    done = {row["name"] for row in db.table("_migrations").rows}
    applied = []
    for name, fn in MIGRATIONS:
        if name in done:
            continue
        with db.conn:
            fn(db)
            db.table("_migrations").insert(
                {"name": name, "applied_at": db.execute("SELECT datetime('now')").fetchone()[0]}
            )
        applied.append(name)
    return applied
