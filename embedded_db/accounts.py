"""Dashboard accounts in the MetaStore: users, organization members with roles and invitation
links (login sessions are in `embedded_db.logins`).

Passwords are argon2id hashes (the MetaStore's hasher). Invitation tokens are random 256-bit
values handed out once and stored only as SHA-256 digests, so a copy of meta.db lets no one accept
an invitation. All times are UTC; `clock` is injectable so tests can move time.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from embedded_db.errors import NotFoundError, ValidationError
from embedded_db.meta import MetaStore, Project, hash_secret, verify_secret

ROLES = ("viewer", "member", "admin", "owner")  # ascending: each role can do what those before can
INVITATION_LIFETIME = timedelta(days=7)
PASSWORD_MIN, PASSWORD_MAX = 8, 1024
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_USER = "SELECT id, email, name, created_at, password_hash FROM users "
_USER_BY = {"id": _USER + "WHERE id = ?", "email_key": _USER + "WHERE email_key = ?"}
_INVITATION = (
    "SELECT id, organization_id, role, email, created_by, created_at, expires_at, accepted_at, "
    "revoked_at FROM invitations "
)
_INVITATIONS_BY = {
    "token_digest": _INVITATION + "WHERE token_digest = ?",
    "organization_id": _INVITATION + "WHERE organization_id = ? ORDER BY created_at",
}


@functools.cache
def _dummy_hash() -> str:
    """A hash verified for unknown emails, so a login costs the same either way."""
    return hash_secret("no such user")


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """The stored form of a time: UTC ISO-8601 with milliseconds (sorts as text)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def digest(token: str) -> str:
    """SHA-256 hex of a random token (session id, invitation token)."""
    return hashlib.sha256(token.encode()).hexdigest()


def has_role(role: str | None, needed: str) -> bool:
    """Whether `role` includes the powers of `needed` (owner > admin > member > viewer)."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def normalize_email(email: str) -> str:
    """The email trimmed; ValidationError("email") when it does not look like one."""
    text = email.strip()
    if len(text) > 254 or not _EMAIL.match(text):
        raise ValidationError("email", "enter a valid email address")
    return text


def check_password(password: str) -> None:
    """ValidationError("password") unless 8 to 1024 characters."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise ValidationError("password", f"use at least {PASSWORD_MIN} characters")


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationError("role", f"must be one of {', '.join(ROLES)}")
    return role


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    name: str
    created_at: str
    password_hash: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class Member:
    organization_id: str
    user_id: str
    email: str
    role: str
    created_at: str


@dataclass(frozen=True, slots=True)
class Invitation:
    id: str
    organization_id: str
    role: str
    email: str
    created_by: str
    created_at: str
    expires_at: str
    accepted_at: str | None = None
    revoked_at: str | None = None

    def usable(self, now: datetime) -> bool:
        """Not accepted, not revoked and not expired at `now`."""
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and datetime.fromisoformat(self.expires_at) > now
        )


@dataclass(frozen=True, slots=True)
class NewInvitation:
    """A created invitation with its link token (given out once, never stored)."""

    token: str
    invitation: Invitation


class Accounts:
    """Users, members and invitations; each method is one short MetaStore transaction."""

    def __init__(self, meta: MetaStore, clock: Callable[[], datetime] = utc_now) -> None:
        self.meta = meta
        self.clock = clock

    # -- users ---------------------------------------------------------------------------------
    def user_count(self) -> int:
        with self.meta.transaction() as db:
            return int(db.execute("SELECT count(*) FROM users").fetchone()[0])

    def create_user(self, email: str, password: str, name: str = "") -> User:
        """A new user; ValidationError("email") if the address (any case) has an account."""
        email = normalize_email(email)
        check_password(password)
        password_hash = hash_secret(password)
        with self.meta.transaction() as db:
            return self._insert_user(db, email, password_hash, name.strip()[:100])

    def get_user(self, user_id: str) -> User | None:
        return self._user_by("id", user_id)

    def find_user(self, email: str) -> User | None:
        """The user with this email, compared case-insensitively."""
        return self._user_by("email_key", email.strip().casefold())

    def authenticate(self, email: str, password: str) -> User | None:
        """The user if the password matches; the KDF runs even for unknown emails."""
        user = self.find_user(email)
        ok = verify_secret(user.password_hash if user else _dummy_hash(), password)
        return user if ok and user is not None else None

    def change_password(self, user_id: str, current: str, new: str) -> None:
        """Replace the password; ValidationError("current") when `current` is wrong."""
        user = self.get_user(user_id)
        if user is None:
            raise NotFoundError("user not found")
        if not verify_secret(user.password_hash, current):
            raise ValidationError("current", "the current password is wrong")
        check_password(new)
        values = {"password_hash": hash_secret(new), "password_changed_at": iso(self.clock())}
        with self.meta.transaction() as db:
            db.table("users").update(user_id, values)

    # -- organizations and members -------------------------------------------------------------
    def create_owner(self, email: str, password: str, organization: str) -> tuple[User, str]:
        """The first user, owner of the first organization (renamed `organization`); returns
        (user, organization id). ValidationError("email") once any user exists."""
        email = normalize_email(email)
        check_password(password)
        name = organization.strip()
        if not 1 <= len(name) <= 100:
            raise ValidationError("organization", "an organization needs a name")
        password_hash = hash_secret(password)
        org_id = self.meta.default_organization()
        with self.meta.transaction() as db:
            if db.execute("SELECT count(*) FROM users").fetchone()[0]:
                raise ValidationError("email", "the appliance is already set up; log in instead")
            user = self._insert_user(db, email, password_hash, "")
            db.table("organizations").update(org_id, {"name": name})
            self._insert_member(db, org_id, user.id, "owner")
        return user, org_id

    def organization_name(self, org_id: str) -> str:
        with self.meta.transaction() as db:
            row = db.execute("SELECT name FROM organizations WHERE id = ?", [org_id]).fetchone()
        return str(row[0]) if row else ""

    def add_member(self, org_id: str, user_id: str, role: str) -> None:
        with self.meta.transaction() as db:
            self._insert_member(db, org_id, user_id, check_role(role))

    def role_of(self, user_id: str, org_id: str) -> str | None:
        with self.meta.transaction() as db:
            row = db.execute(
                "SELECT role FROM members WHERE organization_id = ? AND user_id = ?",
                [org_id, user_id],
            ).fetchone()
        return str(row[0]) if row else None

    def memberships(self, user_id: str) -> dict[str, str]:
        """Organization id → role of one user."""
        with self.meta.transaction() as db:
            rows = db.execute(
                "SELECT organization_id, role FROM members WHERE user_id = ? ORDER BY created_at",
                [user_id],
            ).fetchall()
        return {str(org): str(role) for org, role in rows}

    def members(self, org_id: str) -> list[Member]:
        with self.meta.transaction() as db:
            rows = db.execute(
                "SELECT m.organization_id, m.user_id, u.email, m.role, m.created_at "
                "FROM members m JOIN users u ON u.id = m.user_id "
                "WHERE m.organization_id = ? ORDER BY m.created_at",
                [org_id],
            ).fetchall()
        return [Member(*row) for row in rows]

    def set_role(self, org_id: str, user_id: str, role: str) -> None:
        """Change a member's role; ValidationError("role") if it would leave no owner."""
        check_role(role)
        with self.meta.transaction() as db:
            self._keep_an_owner(db, org_id, user_id, role)
            db.execute(
                "UPDATE members SET role = ? WHERE organization_id = ? AND user_id = ?",
                [role, org_id, user_id],
            )

    def remove_member(self, org_id: str, user_id: str) -> None:
        """Remove a member and end their sessions; refuses to remove the last owner."""
        with self.meta.transaction() as db:
            self._keep_an_owner(db, org_id, user_id, None)
            db.execute(
                "DELETE FROM members WHERE organization_id = ? AND user_id = ?", [org_id, user_id]
            )
            if not db.execute("SELECT 1 FROM members WHERE user_id = ?", [user_id]).fetchone():
                db.execute("DELETE FROM dashboard_sessions WHERE user_id = ?", [user_id])

    def projects_for(self, user_id: str) -> list[Project]:
        """Projects of every organization the user belongs to, oldest first."""
        orgs = self.memberships(user_id)
        return [p for p in self.meta.list_projects() if p.organization_id in orgs]

    def local_owner(self) -> User | None:
        """The first owner ever added (the desktop app's local user)."""
        with self.meta.transaction() as db:
            row = db.execute(
                "SELECT user_id FROM members WHERE role = 'owner' ORDER BY created_at LIMIT 1"
            ).fetchone()
        return self.get_user(str(row[0])) if row else None

    # -- invitations ---------------------------------------------------------------------------
    def invite(self, org_id: str, role: str, created_by: str, email: str = "") -> NewInvitation:
        """An invitation link token for `role`, usable once within INVITATION_LIFETIME;
        `email`, when given, is the only address that may accept it."""
        check_role(role)
        email = normalize_email(email) if email.strip() else ""
        now = self.clock()
        token = secrets.token_urlsafe(32)
        invitation = Invitation(
            id=uuid.uuid4().hex,
            organization_id=org_id,
            role=role,
            email=email,
            created_by=created_by,
            created_at=iso(now),
            expires_at=iso(now + INVITATION_LIFETIME),
        )
        row = {**asdict(invitation), "token_digest": digest(token), "accepted_by": None}
        with self.meta.transaction() as db:
            db.table("invitations").insert(row)
        return NewInvitation(token=token, invitation=invitation)

    def invitation(self, token: str) -> Invitation | None:
        """The invitation behind a link token, if it can still be accepted."""
        found = self._invitations("token_digest", digest(token))
        return found[0] if found and found[0].usable(self.clock()) else None

    def pending_invitations(self, org_id: str) -> list[Invitation]:
        now = self.clock()
        return [i for i in self._invitations("organization_id", org_id) if i.usable(now)]

    def accept_invitation(self, token: str, user: User) -> Invitation:
        """Join the invitation's organization (an existing member keeps the higher role);
        NotFoundError if the link is unusable, ValidationError("email") for another address."""
        invitation = self.invitation(token)
        if invitation is None:
            raise NotFoundError("this invitation link is invalid, used or expired")
        if invitation.email and invitation.email.casefold() != user.email.casefold():
            raise ValidationError("email", f"this invitation is for {invitation.email}")
        org, now = invitation.organization_id, iso(self.clock())
        with self.meta.transaction() as db:
            db.execute(
                "UPDATE invitations SET accepted_at = ?, accepted_by = ? WHERE id = ?",
                [now, user.id, invitation.id],
            )
            current = db.execute(
                "SELECT role FROM members WHERE organization_id = ? AND user_id = ?",
                [org, user.id],
            ).fetchone()
            if current is None:
                self._insert_member(db, org, user.id, invitation.role)
            elif not has_role(current[0], invitation.role):
                db.execute(
                    "UPDATE members SET role = ? WHERE organization_id = ? AND user_id = ?",
                    [invitation.role, org, user.id],
                )
        return invitation

    def revoke_invitation(self, org_id: str, invitation_id: str) -> None:
        with self.meta.transaction() as db:
            cur = db.execute(
                "UPDATE invitations SET revoked_at = ? "
                "WHERE id = ? AND organization_id = ? AND revoked_at IS NULL",
                [iso(self.clock()), invitation_id, org_id],
            )
            if cur.rowcount == 0:
                raise NotFoundError("invitation not found")

    # -- internals -----------------------------------------------------------------------------
    def _user_by(self, column: str, value: str) -> User | None:
        with self.meta.transaction() as db:
            row = db.execute(_USER_BY[column], [value]).fetchone()
        return User(*row) if row else None

    def _insert_user(self, db: Any, email: str, password_hash: str, name: str) -> User:
        key = email.casefold()
        if db.execute("SELECT 1 FROM users WHERE email_key = ?", [key]).fetchone():
            raise ValidationError("email", "this email already has an account")
        now = iso(self.clock())
        user = User(uuid.uuid4().hex, email, name, now, password_hash)
        db.table("users").insert({**asdict(user), "email_key": key, "password_changed_at": now})
        return user

    def _insert_member(self, db: Any, org_id: str, user_id: str, role: str) -> None:
        db.table("members").insert(
            {
                "organization_id": org_id,
                "user_id": user_id,
                "role": role,
                "created_at": iso(self.clock()),
            },
            replace=True,
        )

    def _keep_an_owner(self, db: Any, org_id: str, user_id: str, new_role: str | None) -> None:
        owners = [
            str(r[0])
            for r in db.execute(
                "SELECT user_id FROM members WHERE organization_id = ? AND role = 'owner'",
                [org_id],
            ).fetchall()
        ]
        if owners == [user_id] and new_role != "owner":
            raise ValidationError("role", "an organization needs at least one owner")

    def _invitations(self, column: str, value: str) -> list[Invitation]:
        with self.meta.transaction() as db:
            rows = db.execute(_INVITATIONS_BY[column], [value]).fetchall()
        return [Invitation(*row) for row in rows]
