"""Dashboard login sessions and the server's own secrets, in the MetaStore.

A session id is a random 256-bit token: the browser keeps it in an HttpOnly cookie, meta.db keeps
only its SHA-256 digest. A session ends when unused for SESSION_IDLE, at SESSION_MAX after login
whatever its use, at logout, or when it is revoked. Times are UTC; `clock` is injectable.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from embedded_db.accounts import Accounts, User, digest, iso, utc_now
from embedded_db.meta import MetaStore

SESSION_IDLE = timedelta(days=14)  # a session unused this long ends
SESSION_MAX = timedelta(days=90)  # and none lives longer than this, however used
SESSION_TOUCH = timedelta(minutes=1)  # last_seen is written at most this often


@dataclass(frozen=True, slots=True)
class LoginSession:
    id: str  # the digest of the cookie value
    user_id: str
    created_at: str
    last_seen_at: str
    expires_at: str

    def live(self, now: datetime) -> bool:
        """Unexpired at `now`: used within SESSION_IDLE and younger than SESSION_MAX."""
        return datetime.fromisoformat(self.expires_at) > now


@dataclass(frozen=True, slots=True)
class NewSession:
    """A started session with its cookie value (given out once, never stored)."""

    token: str
    session: LoginSession


class Logins:
    """Login sessions of dashboard users; each method is one short MetaStore transaction."""

    def __init__(self, meta: MetaStore, clock: Callable[[], datetime] = utc_now) -> None:
        self.meta = meta
        self.clock = clock
        self.accounts = Accounts(meta, clock)

    # -- login sessions ------------------------------------------------------------------------
    def start_session(self, user_id: str, user_agent: str = "", ip: str = "") -> NewSession:
        """A new login session; the returned token is the cookie value."""
        now = self.clock()
        token = secrets.token_urlsafe(32)
        session = LoginSession(
            id=digest(token),
            user_id=user_id,
            created_at=iso(now),
            last_seen_at=iso(now),
            expires_at=iso(now + SESSION_IDLE),
        )
        row = {**asdict(session), "user_agent": user_agent[:300], "ip": ip[:64]}
        with self.meta.transaction() as db:
            db.table("dashboard_sessions").insert(row)
        return NewSession(token=token, session=session)

    def session_user(self, token: str) -> tuple[LoginSession, User] | None:
        """The live session of a cookie value and its user; extends the idle expiry (written at
        most every SESSION_TOUCH); an expired session is deleted."""
        if not token or len(token) > 200:
            return None
        now = self.clock()
        with self.meta.transaction() as db:
            row = db.execute(
                "SELECT id, user_id, created_at, last_seen_at, expires_at "
                "FROM dashboard_sessions WHERE id = ?",
                [digest(token)],
            ).fetchone()
            if row is None:
                return None
            session = LoginSession(*row)
            if not session.live(now):
                db.execute("DELETE FROM dashboard_sessions WHERE id = ?", [session.id])
                return None
            if now - datetime.fromisoformat(session.last_seen_at) >= SESSION_TOUCH:
                cap = datetime.fromisoformat(session.created_at) + SESSION_MAX
                expires = iso(min(now + SESSION_IDLE, cap))
                db.execute(
                    "UPDATE dashboard_sessions SET last_seen_at = ?, expires_at = ? WHERE id = ?",
                    [iso(now), expires, session.id],
                )
        user = self.accounts.get_user(session.user_id)
        return (session, user) if user is not None else None

    def end_session(self, token: str) -> None:
        """Log out: delete the session of this cookie value (no error if there is none)."""
        with self.meta.transaction() as db:
            db.execute("DELETE FROM dashboard_sessions WHERE id = ?", [digest(token)])

    def end_sessions(self, user_id: str, keep: str | None = None) -> int:
        """End every session of a user except the one with id (digest) `keep`; return the count."""
        with self.meta.transaction() as db:
            cur = db.execute(
                "DELETE FROM dashboard_sessions WHERE user_id = ? AND id != ?",
                [user_id, keep or ""],
            )
        return int(cur.rowcount)

    def purge_expired_sessions(self) -> int:
        with self.meta.transaction() as db:
            cur = db.execute(
                "DELETE FROM dashboard_sessions WHERE expires_at <= ?", [iso(self.clock())]
            )
        return int(cur.rowcount)

    # -- the server's own secrets --------------------------------------------------------------
    def server_secret(self, name: str) -> str:
        """A random secret kept in meta.db (created on first use; survives restarts)."""
        with self.meta.transaction() as db:
            row = db.execute("SELECT value FROM server_secrets WHERE name = ?", [name]).fetchone()
            if row:
                return str(row[0])
            value = secrets.token_hex(32)
            db.table("server_secrets").insert(
                {"name": name, "value": value, "created_at": iso(self.clock())}
            )
            return value
