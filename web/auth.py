"""Authentication of API clients: SDK ingest rules (openpanel-compat.md §1.3) and read clients.

Clients and projects are cached for a few seconds, so a client created by the CLI in another
process works without a restart. Secret checks run the slow KDF off the event loop and cache the
outcome for 5 minutes per (client, secret digest).
"""

from __future__ import annotations

import functools
import hashlib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio.to_thread

from embedded_db.errors import AppError, NotFoundError
from embedded_db.meta import Client, MetaStore, Project, verify_secret

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SECRET_CACHE_SECONDS = 300


class AuthError(AppError):
    """401: the message is sent as plain text (the SDKs do not retry a 401)."""


class ForbiddenError(AppError):
    """403: an authenticated client asked for something outside its reach."""


@dataclass(frozen=True, slots=True)
class Caller:
    client: Client
    project: Project
    secret_auth: bool


@functools.lru_cache(maxsize=4096)
def origin_allowed(origin: str, cors: tuple[str, ...]) -> bool:
    """Match a request Origin against a project's CORS list (www/scheme/slash-insensitive,
    `*` wildcards, a bare `*` accepts any origin)."""
    if not origin:
        return False
    wanted = _normalize(origin)
    for entry in cors:
        entry = entry.strip()
        if entry == "*":
            return True
        norm = _normalize(entry)
        if "*" in norm:
            pattern = ".+".join(re.escape(part) for part in norm.split("*"))
            if re.search(pattern, wanted):
                return True
        elif norm == wanted:
            return True
    return False


def _normalize(url: str) -> str:
    text = url.strip().lower()
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = text.removeprefix("www.")
    return text.rstrip("/")


class _TTLCache:
    def __init__(self, seconds: float, size: int = 10_000) -> None:
        self.seconds = seconds
        self.size = size
        self._items: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any) -> tuple[bool, Any]:
        hit = self._items.get(key)
        if hit and hit[0] > time.monotonic():
            return True, hit[1]
        return False, None

    def put(self, key: Any, value: Any) -> None:
        if len(self._items) >= self.size:
            self._items.clear()  # crude but bounded; entries are cheap to reload
        self._items[key] = (time.monotonic() + self.seconds, value)


class Authenticator:
    """Resolves and checks API clients against the MetaStore."""

    def __init__(self, meta: MetaStore, cache_seconds: float = 5) -> None:
        self.meta = meta
        self._clients = _TTLCache(cache_seconds)
        self._projects = _TTLCache(cache_seconds)
        self._secrets = _TTLCache(SECRET_CACHE_SECONDS)

    def client(self, client_id: str) -> Client | None:
        found, client = self._clients.get(client_id)
        if not found:
            client = self.meta.get_client(client_id)
            self._clients.put(client_id, client)
        return client

    def project(self, project_id: str) -> Project | None:
        found, project = self._projects.get(project_id)
        if not found:
            try:
                project = self.meta.get_project(project_id)
            except NotFoundError:
                project = None
            self._projects.put(project_id, project)
        return project

    async def secret_ok(self, client: Client, secret: str) -> bool:
        if not client.secret_hash or not secret:
            return False
        key = (client.id, hashlib.sha256(secret.encode()).hexdigest())
        found, ok = self._secrets.get(key)
        if not found:
            ok = await anyio.to_thread.run_sync(verify_secret, client.secret_hash, secret)
            self._secrets.put(key, ok)
        return bool(ok)

    def _load(self, client_id: str) -> tuple[Client, Project]:
        if not client_id:
            raise AuthError("Ingestion: Missing client id")
        if not _UUID.match(client_id):
            raise AuthError("Ingestion: Client ID must be a valid UUIDv4")
        client = self.client(client_id)
        if client is None:
            raise AuthError("Ingestion: Invalid client id")
        project = self.project(client.project_id) if client.project_id else None
        if project is None:
            raise AuthError("Ingestion: Client has no project")
        return client, project

    async def ingest(
        self,
        *,
        client_id: str,
        secret: str,
        origin: str,
        ip: str,
        profile_id: str,
        has_revenue: bool,
    ) -> Caller:
        """Apply the SDK checks in order; raise AuthError with upstream's message."""
        client, project = self._load(client_id)
        for rule in project.filters:
            if rule.get("type") == "ip" and ip and rule.get("ip") == ip:
                raise AuthError("Ingestion: IP address is blocked by the project's filters")
            if (
                rule.get("type") == "profile_id"
                and profile_id
                and str(rule.get("profileId")) == profile_id
            ):
                raise AuthError("Ingestion: Profile id is blocked by the project's filters")
        if has_revenue and not secret and not project.allow_unsafe_revenue:
            raise AuthError("Ingestion: Revenue tracking is not allowed without a client secret")
        if client.ignore_cors_and_secret:
            return Caller(client, project, bool(secret))
        if origin and origin_allowed(origin, project.cors):
            return Caller(client, project, bool(secret))
        if secret and await self.secret_ok(client, secret):
            return Caller(client, project, True)
        if origin and not secret:
            # Our improvement on upstream's bare message: say what did not match (issue #344).
            raise AuthError(
                f"Ingestion: Invalid cors or secret (origin {origin[:200]} is not in "
                f"the CORS list of project {project.id})"
            )
        raise AuthError("Ingestion: Invalid cors or secret")

    async def reader(self, headers: Mapping[str, str], project_id: str | None) -> Caller:
        """A read or root client with its secret, and the project it asks for."""
        client_id = headers.get("openpanel-client-id", "")
        secret = headers.get("openpanel-client-secret", "")
        if not client_id or not secret:
            raise AuthError("Missing openpanel-client-id or openpanel-client-secret header")
        client = self.client(client_id) if _UUID.match(client_id) else None
        if client is None or not await self.secret_ok(client, secret):
            raise AuthError("Invalid client id or secret")
        if client.type not in ("read", "root"):
            raise ForbiddenError("this endpoint needs a read or root client")
        wanted = project_id or client.project_id
        if not wanted:
            raise ForbiddenError("projectId is required for an organization-level client")
        if client.type == "read" and client.project_id and wanted != client.project_id:
            raise ForbiddenError("this client cannot read that project")
        project = self.project(wanted)
        if project is None or project.organization_id != client.organization_id:
            raise NotFoundError(f"project {wanted!r} not found")
        return Caller(client, project, True)
