"""Conversions marked on event names, in the MetaStore on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from embedded_db.errors import NotFoundError, ValidationError
from embedded_db.event_meta import conversions, event_meta, set_conversion
from embedded_db.meta import MetaStore


@pytest.fixture
def meta(tmp_path: Path) -> MetaStore:
    return MetaStore(tmp_path / "meta.db")


def test_an_event_is_no_conversion_until_marked_and_can_be_unmarked(meta: MetaStore) -> None:
    shop, blog = meta.create_project("Shop"), meta.create_project("Blog")
    assert event_meta(meta, shop.id, "signup").conversion is False
    marked = set_conversion(meta, shop.id, "signup", True, "user-1")
    assert (marked.name, marked.conversion, marked.updated_by) == ("signup", True, "user-1")
    assert marked.updated_at
    set_conversion(meta, shop.id, "purchase", True)
    assert conversions(meta, shop.id) == ["purchase", "signup"]
    assert conversions(meta, blog.id) == []  # per project
    set_conversion(meta, shop.id, "signup", False)
    assert conversions(meta, shop.id) == ["purchase"]
    assert event_meta(meta, shop.id, "signup").conversion is False


def test_names_are_kept_exactly_and_bounded(meta: MetaStore) -> None:
    shop = meta.create_project("Shop")
    odd = 'it\'s "quoted" <b>; DROP TABLE event_meta; --'
    set_conversion(meta, shop.id, odd, True)
    assert conversions(meta, shop.id) == [odd]
    for bad in ("", "x" * 201):
        with pytest.raises(ValidationError):
            set_conversion(meta, shop.id, bad, True)
    with pytest.raises(NotFoundError):
        set_conversion(meta, "no-such-project", "signup", True)
