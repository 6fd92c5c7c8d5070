"""MetaStore: organizations, projects, API clients and salts in SQLite (sqlite-utils).

Short transactions on one connection guarded by a lock; WAL mode so CLI commands in another
process (`openpanel project create`) can write while the server runs, and the server sees their
rows on its next read.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import threading
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from embedded_db.errors import NotFoundError, ValidationError
from embedded_db.meta_migrations import apply_migrations

CLIENT_TYPES = ("write", "read", "root")
_NEWEST_SALTS = "SELECT salt FROM salts ORDER BY created_at DESC, rowid DESC LIMIT 2"
_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) defaults


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def slugify(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:40] or "project"


def hash_secret(secret: str) -> str:
    """Slow, salted hash of a client secret (argon2id)."""
    return _hasher.hash(secret)


def verify_secret(stored: str, secret: str) -> bool:
    """Constant-time check of a secret against its stored hash."""
    try:
        return _hasher.verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    organization_id: str
    name: str
    domain: str = ""
    cors: tuple[str, ...] = ()
    filters: tuple[dict[str, Any], ...] = ()
    timezone: str = "UTC"
    allow_unsafe_revenue: bool = False
    created_at: str = ""


@dataclass(frozen=True, slots=True)
class Client:
    id: str
    name: str
    type: str
    organization_id: str
    project_id: str | None
    secret_hash: str | None = field(default=None, repr=False)
    ignore_cors_and_secret: bool = False
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class NewClient:
    """A created client with its plaintext secret (shown once, never stored)."""

    client: Client
    secret: str


class MetaStore:
    """Accounts and configuration; every method is one short transaction."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=10)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=10000")
        self.db = sqlite_utils.Database(conn)
        self._lock = threading.RLock()
        with self._lock:
            apply_migrations(self.db)

    def close(self) -> None:
        with self._lock:
            self.db.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        with self._lock, self.db.conn:
            yield self.db

    def ping(self) -> None:
        with self._lock:
            self.db.execute("SELECT 1").fetchone()

    # -- organizations and projects ------------------------------------------------------------
    def default_organization(self) -> str:
        """Id of the first organization, created on first use."""
        with self.transaction() as db:
            row = db.execute("SELECT id FROM organizations ORDER BY created_at LIMIT 1").fetchone()
            if row:
                return str(row[0])
            org_id = "default"
            row = {"id": org_id, "name": "Default", "created_at": now_iso()}
            db.table("organizations").insert(row)
            return org_id

    def create_project(
        self,
        name: str,
        *,
        cors: list[str] | None = None,
        domain: str = "",
        timezone: str = "UTC",
        organization_id: str | None = None,
        allow_unsafe_revenue: bool = False,
    ) -> Project:
        """Create a project with a slug id (a random suffix on collision)."""
        name = name.strip()
        if not name or len(name) > 100:
            raise ValidationError("name", "a project needs a name of 1 to 100 characters")
        _check_timezone(timezone)
        org = organization_id or self.default_organization()
        base = slugify(name)
        with self.transaction() as db:
            project_id = base
            while db.table("projects").count_where("id = ?", [project_id]):
                project_id = f"{base}-{secrets.randbelow(9000) + 1000}"
            row = {
                "id": project_id,
                "organization_id": org,
                "name": name,
                "domain": domain,
                "cors": json.dumps(cors or []),
                "filters": "[]",
                "timezone": timezone,
                "allow_unsafe_revenue": int(allow_unsafe_revenue),
                "created_at": now_iso(),
                "deleted_at": None,
            }
            db.table("projects").insert(row)
        return self.get_project(project_id)

    def get_project(self, project_id: str) -> Project:
        with self._lock:
            rows = list(
                self.db.query(
                    "SELECT * FROM projects WHERE id = ? AND deleted_at IS NULL", [project_id]
                )
            )
        if not rows:
            raise NotFoundError(f"project {project_id!r} not found")
        return _project(rows[0])

    def list_projects(self) -> list[Project]:
        with self._lock:
            rows = list(
                self.db.query("SELECT * FROM projects WHERE deleted_at IS NULL ORDER BY created_at")
            )
        return [_project(r) for r in rows]

    def update_project(self, project_id: str, **changes: Any) -> Project:
        """Change cors, filters, timezone, domain, name or allow_unsafe_revenue."""
        allowed = {"name", "cors", "filters", "timezone", "domain", "allow_unsafe_revenue"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValidationError(sorted(unknown)[0], "cannot be changed")
        if "timezone" in changes:
            _check_timezone(changes["timezone"])
        values = {k: json.dumps(v) if k in ("cors", "filters") else v for k, v in changes.items()}
        self.get_project(project_id)
        with self.transaction() as db:
            db.table("projects").update(project_id, values)
        return self.get_project(project_id)

    # -- clients -------------------------------------------------------------------------------
    def create_client(
        self,
        *,
        project_id: str | None,
        type: str = "write",
        name: str = "",
        with_secret: bool = True,
    ) -> NewClient:
        """Create an API client; the plaintext secret is returned once and only its hash kept."""
        if type not in CLIENT_TYPES:
            raise ValidationError("type", f"must be one of {', '.join(CLIENT_TYPES)}")
        if project_id is not None:
            org = self.get_project(project_id).organization_id
        else:
            org = self.default_organization()
        secret = "sec_" + secrets.token_hex(20) if with_secret else ""
        client = Client(
            id=str(uuid.uuid4()),
            name=name or f"{type} client",
            type=type,
            organization_id=org,
            project_id=project_id,
            secret_hash=hash_secret(secret) if secret else None,
        )
        with self.transaction() as db:
            db.table("clients").insert(
                {
                    "id": client.id,
                    "name": client.name,
                    "type": client.type,
                    "organization_id": org,
                    "project_id": project_id,
                    "secret_hash": client.secret_hash,
                    "ignore_cors_and_secret": 0,
                    "created_at": now_iso(),
                    "revoked_at": None,
                }
            )
        return NewClient(client=client, secret=secret)

    def get_client(self, client_id: str) -> Client | None:
        """The client, or None if unknown or revoked."""
        with self._lock:
            rows = list(
                self.db.query(
                    "SELECT * FROM clients WHERE id = ? AND revoked_at IS NULL", [client_id]
                )
            )
        return _client(rows[0]) if rows else None

    def list_clients(self, project_id: str | None = None) -> list[Client]:
        sql = "SELECT * FROM clients WHERE revoked_at IS NULL"
        args: list[Any] = []
        if project_id is not None:
            sql += " AND project_id = ?"
            args.append(project_id)
        with self._lock:
            return [_client(r) for r in self.db.query(sql + " ORDER BY created_at", args)]

    def revoke_client(self, client_id: str) -> None:
        with self.transaction() as db:
            cur = db.execute(
                "UPDATE clients SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                [now_iso(), client_id],
            )
            if cur.rowcount == 0:
                raise NotFoundError(f"client {client_id!r} not found")

    # -- salts ---------------------------------------------------------------------------------
    def salts(self) -> tuple[str, str]:
        """(current, previous) device-id salts, creating both on first use."""
        with self.transaction() as db:
            rows = db.execute(_NEWEST_SALTS).fetchall()
            if len(rows) < 2:
                now = datetime.now(UTC)
                for when in (now - timedelta(days=1), now):
                    db.table("salts").insert(
                        {
                            "salt": secrets.token_hex(16),
                            "created_at": when.isoformat(timespec="milliseconds"),
                        }
                    )
                rows = db.execute(_NEWEST_SALTS).fetchall()
        return str(rows[0][0]), str(rows[1][0])

    def rotate_salt(self, now: datetime | None = None) -> tuple[str, str]:
        """Add a new current salt and keep only the newest two."""
        when = (now or datetime.now(UTC)).isoformat(timespec="milliseconds")
        with self.transaction() as db:
            db.table("salts").insert({"salt": secrets.token_hex(16), "created_at": when})
            db.execute(
                "DELETE FROM salts WHERE salt NOT IN "
                "(SELECT salt FROM salts ORDER BY created_at DESC, rowid DESC LIMIT 2)"
            )
        return self.salts()

    def salt_created_at(self) -> datetime:
        """Creation time of the current salt (UTC)."""
        self.salts()
        with self._lock:
            row = self.db.execute("SELECT max(created_at) FROM salts").fetchone()
        return datetime.fromisoformat(row[0])


def _check_timezone(name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("timezone", f"unknown timezone {name!r}") from None


def _project(row: dict[str, Any]) -> Project:
    return Project(
        id=row["id"],
        organization_id=row["organization_id"],
        name=row["name"],
        domain=row["domain"] or "",
        cors=tuple(json.loads(row["cors"] or "[]")),
        filters=tuple(json.loads(row["filters"] or "[]")),
        timezone=row["timezone"] or "UTC",
        allow_unsafe_revenue=bool(row["allow_unsafe_revenue"]),
        created_at=row["created_at"],
    )


def _client(row: dict[str, Any]) -> Client:
    return Client(
        id=row["id"],
        name=row["name"],
        type=row["type"],
        organization_id=row["organization_id"],
        project_id=row["project_id"],
        secret_hash=row["secret_hash"],
        ignore_cors_and_secret=bool(row["ignore_cors_and_secret"]),
        revoked=row["revoked_at"] is not None,
    )
