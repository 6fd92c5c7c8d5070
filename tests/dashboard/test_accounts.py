"""Accounts and login sessions on a real SQLite file: hashing, roles, invitations, expiry."""

from __future__ import annotations

from pathlib import Path

import pytest

from embedded_db.accounts import INVITATION_LIFETIME, ROLES, Accounts, digest, has_role
from embedded_db.errors import NotFoundError, ValidationError
from embedded_db.logins import SESSION_IDLE, SESSION_MAX, Logins
from embedded_db.meta import MetaStore
from tests.dashboard.conftest import Clock


def test_passwords_are_argon2id_hashes_never_stored_in_clear(
    accounts: Accounts, tmp_path: Path
) -> None:
    user = accounts.create_user("ada@example.com", "s3cret-passphrase")
    assert user.password_hash.startswith("$argon2id$")
    assert b"s3cret-passphrase" not in (tmp_path / "meta.db").read_bytes()
    assert accounts.authenticate("ada@example.com", "s3cret-passphrase") == user
    assert accounts.authenticate("ada@example.com", "s3cret-passphrasE") is None
    assert accounts.authenticate("nobody@example.com", "s3cret-passphrase") is None


def test_emails_are_unique_whatever_their_case(accounts: Accounts) -> None:
    user = accounts.create_user("Ada@Example.com", "s3cret-passphrase")
    assert accounts.find_user("ada@EXAMPLE.COM") == user
    assert accounts.authenticate("ADA@example.com", "s3cret-passphrase") == user
    with pytest.raises(ValidationError) as err:
        accounts.create_user("ada@example.com", "another-passphrase")
    assert err.value.field == "email"


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [("not-an-email", "long enough", "email"), ("a@b.co", "short", "password")],
)
def test_bad_signups_name_the_field(
    accounts: Accounts, email: str, password: str, field: str
) -> None:
    with pytest.raises(ValidationError) as err:
        accounts.create_user(email, password)
    assert err.value.field == field
    assert accounts.user_count() == 0


def test_roles_are_ordered_viewer_member_admin_owner() -> None:
    assert ROLES == ("viewer", "member", "admin", "owner")
    assert has_role("owner", "admin") and has_role("admin", "admin")
    assert not has_role("member", "admin") and not has_role("viewer", "member")
    assert not has_role(None, "viewer") and not has_role("root", "viewer")


def test_setup_creates_the_one_owner_once(accounts: Accounts, meta: MetaStore) -> None:
    owner, org = accounts.create_owner("owner@example.com", "s3cret-passphrase", "Acme")
    assert accounts.organization_name(org) == "Acme"
    assert accounts.memberships(owner.id) == {org: "owner"}
    assert accounts.local_owner() == owner
    with pytest.raises(ValidationError, match="already set up"):
        accounts.create_owner("second@example.com", "s3cret-passphrase", "Other")
    project = meta.create_project("Shop", organization_id=org)
    assert accounts.projects_for(owner.id) == [project]


def test_an_organization_always_keeps_an_owner(accounts: Accounts) -> None:
    owner, org = accounts.create_owner("owner@example.com", "s3cret-passphrase", "Acme")
    other = accounts.create_user("other@example.com", "s3cret-passphrase")
    accounts.add_member(org, other.id, "viewer")
    with pytest.raises(ValidationError, match="at least one owner"):
        accounts.set_role(org, owner.id, "admin")
    with pytest.raises(ValidationError, match="at least one owner"):
        accounts.remove_member(org, owner.id)
    accounts.set_role(org, other.id, "owner")
    accounts.set_role(org, owner.id, "viewer")
    assert {m.email: m.role for m in accounts.members(org)} == {
        "owner@example.com": "viewer",
        "other@example.com": "owner",
    }


def test_invitations_work_once_for_their_role(accounts: Accounts) -> None:
    owner, org = accounts.create_owner("owner@example.com", "s3cret-passphrase", "Acme")
    issued = accounts.invite(org, "viewer", owner.id)
    assert accounts.pending_invitations(org) == [issued.invitation]
    guest = accounts.create_user("guest@example.com", "s3cret-passphrase")
    accounts.accept_invitation(issued.token, guest)
    assert accounts.role_of(guest.id, org) == "viewer"
    assert accounts.invitation(issued.token) is None
    assert accounts.pending_invitations(org) == []
    with pytest.raises(NotFoundError):
        accounts.accept_invitation(issued.token, guest)


def test_invitation_tokens_are_stored_as_digests_only(
    accounts: Accounts, meta: MetaStore, tmp_path: Path
) -> None:
    owner, org = accounts.create_owner("owner@example.com", "s3cret-passphrase", "Acme")
    issued = accounts.invite(org, "member", owner.id)
    with meta.transaction() as db:
        (stored,) = db.execute("SELECT token_digest FROM invitations").fetchone()
    assert stored == digest(issued.token) and issued.token not in stored
    assert issued.token.encode() not in (tmp_path / "meta.db").read_bytes()


def test_invitations_expire_after_their_lifetime(accounts: Accounts, clock: Clock) -> None:
    owner, org = accounts.create_owner("owner@example.com", "s3cret-passphrase", "Acme")
    issued = accounts.invite(org, "member", owner.id)
    clock.advance(seconds=INVITATION_LIFETIME.total_seconds() - 1)
    assert accounts.invitation(issued.token) == issued.invitation
    clock.advance(seconds=1)
    assert accounts.invitation(issued.token) is None
    late = accounts.create_user("late@example.com", "s3cret-passphrase")
    with pytest.raises(NotFoundError):
        accounts.accept_invitation(issued.token, late)
    assert accounts.role_of(late.id, org) is None


def test_an_invitation_for_an_email_refuses_other_addresses(accounts: Accounts) -> None:
    owner, org = accounts.create_owner("owner@example.com", "s3cret-passphrase", "Acme")
    issued = accounts.invite(org, "admin", owner.id, email="Bea@example.com")
    eve = accounts.create_user("eve@example.com", "s3cret-passphrase")
    with pytest.raises(ValidationError, match="Bea@example.com"):
        accounts.accept_invitation(issued.token, eve)
    bea = accounts.create_user("bea@EXAMPLE.com", "s3cret-passphrase")
    accounts.accept_invitation(issued.token, bea)
    assert accounts.role_of(bea.id, org) == "admin"


def test_revoked_invitations_cannot_be_accepted(accounts: Accounts) -> None:
    owner, org = accounts.create_owner("owner@example.com", "s3cret-passphrase", "Acme")
    issued = accounts.invite(org, "member", owner.id)
    accounts.revoke_invitation(org, issued.invitation.id)
    assert accounts.invitation(issued.token) is None
    with pytest.raises(NotFoundError):
        accounts.revoke_invitation(org, issued.invitation.id)


def test_accepting_never_lowers_an_existing_role(accounts: Accounts) -> None:
    owner, org = accounts.create_owner("owner@example.com", "s3cret-passphrase", "Acme")
    accounts.accept_invitation(accounts.invite(org, "viewer", owner.id).token, owner)
    assert accounts.role_of(owner.id, org) == "owner"


def test_changing_the_password_needs_the_current_one(accounts: Accounts) -> None:
    user = accounts.create_user("ada@example.com", "s3cret-passphrase")
    with pytest.raises(ValidationError) as err:
        accounts.change_password(user.id, "wrong-passphrase", "new-passphrase")
    assert err.value.field == "current"
    accounts.change_password(user.id, "s3cret-passphrase", "new-passphrase")
    assert accounts.authenticate("ada@example.com", "s3cret-passphrase") is None
    assert accounts.authenticate("ada@example.com", "new-passphrase") is not None


def test_sessions_are_stored_as_digests_and_end_at_logout(
    logins: Logins, accounts: Accounts, tmp_path: Path
) -> None:
    user = accounts.create_user("ada@example.com", "s3cret-passphrase")
    new = logins.start_session(user.id, "Firefox", "127.0.0.1")
    assert new.session.id == digest(new.token)
    assert new.token.encode() not in (tmp_path / "meta.db").read_bytes()
    found = logins.session_user(new.token)
    assert found is not None and found[1] == user
    logins.end_session(new.token)
    assert logins.session_user(new.token) is None
    assert logins.session_user("") is None and logins.session_user("x" * 500) is None


def test_sessions_end_when_idle(logins: Logins, accounts: Accounts, clock: Clock) -> None:
    user = accounts.create_user("ada@example.com", "s3cret-passphrase")
    token = logins.start_session(user.id).token
    clock.advance(seconds=SESSION_IDLE.total_seconds() - 1)
    assert logins.session_user(token) is not None  # used: the idle expiry moves on
    clock.advance(seconds=SESSION_IDLE.total_seconds() - 1)
    assert logins.session_user(token) is not None
    clock.advance(seconds=SESSION_IDLE.total_seconds())
    assert logins.session_user(token) is None


def test_sessions_end_at_their_maximum_age_however_used(
    logins: Logins, accounts: Accounts, clock: Clock
) -> None:
    user = accounts.create_user("ada@example.com", "s3cret-passphrase")
    token = logins.start_session(user.id).token
    used_until = clock.now + SESSION_MAX
    while clock.now + SESSION_IDLE / 2 < used_until:
        clock.advance(seconds=(SESSION_IDLE / 2).total_seconds())
        assert logins.session_user(token) is not None
    clock.now = used_until
    assert logins.session_user(token) is None


def test_other_sessions_can_be_revoked_keeping_this_one(
    logins: Logins, accounts: Accounts, clock: Clock
) -> None:
    user = accounts.create_user("ada@example.com", "s3cret-passphrase")
    here, there, elsewhere = (logins.start_session(user.id) for _ in range(3))
    assert logins.end_sessions(user.id, keep=here.session.id) == 2
    assert logins.session_user(here.token) is not None
    assert logins.session_user(there.token) is None and logins.session_user(elsewhere.token) is None
    clock.advance(days=30)
    assert logins.purge_expired_sessions() == 1


def test_removed_members_lose_their_sessions(logins: Logins, accounts: Accounts) -> None:
    owner, org = accounts.create_owner("owner@example.com", "s3cret-passphrase", "Acme")
    guest = accounts.create_user("guest@example.com", "s3cret-passphrase")
    accounts.add_member(org, guest.id, "member")
    token = logins.start_session(guest.id).token
    accounts.remove_member(org, guest.id)
    assert logins.session_user(token) is None


def test_the_server_secret_survives_a_restart(meta: MetaStore, tmp_path: Path) -> None:
    first = Logins(meta).server_secret("csrf")
    meta.close()
    reopened = MetaStore(tmp_path / "meta.db")
    try:
        assert Logins(reopened).server_secret("csrf") == first and len(first) == 64
        assert Logins(reopened).server_secret("other") != first
    finally:
        reopened.close()
