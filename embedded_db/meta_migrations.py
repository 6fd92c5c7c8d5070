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
