"""MetaStore on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from embedded_db.errors import NotFoundError, ValidationError
from embedded_db.meta import MetaStore, verify_secret
from embedded_db.meta_migrations import apply_migrations


@pytest.fixture
def meta(tmp_path: Path) -> MetaStore:
    return MetaStore(tmp_path / "meta.db")


def test_project_ids_are_slugs_made_unique(meta: MetaStore) -> None:
    first = meta.create_project("Mon Café!", cors=["https://cafe.fr"])
    second = meta.create_project("Mon Café!")
    assert first.id == "mon-cafe"
    assert second.id.startswith("mon-cafe-") and second.id != first.id
    assert meta.get_project(first.id).cors == ("https://cafe.fr",)


def test_secrets_are_hashed_and_shown_once(meta: MetaStore, tmp_path: Path) -> None:
    project = meta.create_project("Site")
    new = meta.create_client(project_id=project.id, type="read")
    stored = meta.get_client(new.client.id)
    assert stored is not None and stored.secret_hash is not None
    assert new.secret not in stored.secret_hash and stored.secret_hash.startswith("$argon2id$")
    assert verify_secret(stored.secret_hash, new.secret)
    assert not verify_secret(stored.secret_hash, new.secret + "x")
    assert new.secret.encode() not in (tmp_path / "meta.db").read_bytes()


def test_revoked_clients_disappear(meta: MetaStore) -> None:
    project = meta.create_project("Site")
    new = meta.create_client(project_id=project.id)
    meta.revoke_client(new.client.id)
    assert meta.get_client(new.client.id) is None
    with pytest.raises(NotFoundError):
        meta.revoke_client(new.client.id)


def test_bad_input_names_the_field(meta: MetaStore) -> None:
    with pytest.raises(ValidationError) as err:
        meta.create_project("")
    assert err.value.field == "name"
    with pytest.raises(ValidationError) as err:
        meta.create_project("X", timezone="Nowhere/City")
    assert err.value.field == "timezone"
    with pytest.raises(ValidationError):
        meta.create_client(project_id=None, type="admin")


def test_salts_rotate_keeping_the_previous_one(meta: MetaStore) -> None:
    current, previous = meta.salts()
    assert current != previous and meta.salts() == (current, previous)
    new_current, new_previous = meta.rotate_salt()
    assert new_previous == current and new_current not in (current, previous)
    assert len(meta.db.execute("SELECT * FROM salts").fetchall()) == 2


def test_migrations_apply_once(meta: MetaStore) -> None:
    assert apply_migrations(meta.db) == []


def test_a_second_process_sees_new_clients(meta: MetaStore, tmp_path: Path) -> None:
    other = MetaStore(tmp_path / "meta.db")  # as the CLI would, while the server runs
    project = other.create_project("Live")
    new = other.create_client(project_id=project.id)
    assert meta.get_client(new.client.id) is not None
