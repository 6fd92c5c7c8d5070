"""Group types, the group list and one group's page over hand-built rows.

Groups (created): acme company 12:00 (re-sent with a new name and plan: the newest version
wins), globex company 11:00, "50%_off" campaign 10:30 (LIKE characters in its id), team-x team
10:00 (no members). Profiles: u1 in acme and globex (seen 11:00), u2 in acme (seen 11:30),
u3 in acme (seen 10:15, anonymous), u4 in nothing. Events: acme has three real events (the
latest at 10:05) and a session_start, globex one, the others none.
"""

from __future__ import annotations

from typing import Any

import pytest

from embedded_db.errors import NotFoundError, ValidationError
from embedded_db.reports.groups import GroupListQuery, group_detail, group_types, list_groups
from embedded_db.store import EventStore
from tests.embedded_db.reports.people_fixtures import Book, at, ch

HOSTILE = "it's \\ {x:String} %_ \t\"); DROP TABLE events --"


def group_row(project: str, gid: str, kind: str, name: str, minutes: int, **props: str) -> Any:
    return {
        "id": gid,
        "project_id": project,
        "type": kind,
        "name": name,
        "properties": props,
        "created_at": ch(at(minutes)),
        "version": 1000 + minutes,
    }


@pytest.fixture(scope="module")
def project(store: EventStore) -> str:
    book = Book(store)
    p = book.project
    store.insert(
        "groups",
        [
            group_row(p, "acme", "company", "Acme Inc", 100, plan="free"),
            group_row(p, "acme", "company", "ACME Corporation", 120, plan="enterprise"),
            group_row(p, "globex", "company", "Globex", 60),
            group_row(p, "50%_off", "campaign", "Spring sale", 30),
            group_row(p, "team-x", "team", "Team X", 0),
        ],
    )
    book.profile("u1", at(60), is_external=True, first_name="Ada", groups=["acme", "globex"])
    book.profile("u2", at(90), is_external=True, first_name="Grace", groups=["acme"])
    book.profile("u3", at(15), groups=["acme"])
    book.profile("u4", at(20), is_external=True)
    book.event("session_start", at(0), "s1", "u1", groups=["acme"])
    book.event("click", at(1), "s1", "u1", groups=["acme"])
    book.event("click", at(2), "s1", "u1", groups=["acme", "globex"])
    book.event("click", at(5), "s2", "u2", groups=["acme"])
    book.event("click", at(6), "s3", "u4")
    book.save()
    return p


def groups(store: EventStore, project: str, **options: Any) -> dict[str, Any]:
    return list_groups(store, GroupListQuery(project_id=project, **options))


def ids(result: dict[str, Any]) -> list[str]:
    return [row["id"] for row in result["data"]]


def test_types_are_sorted_with_their_group_counts(store: EventStore, project: str) -> None:
    assert group_types(store, project) == {
        "types": ["campaign", "company", "team"],
        "counts": {"campaign": 1, "company": 2, "team": 1},
    }
    assert group_types(store, "no-such-project") == {"types": [], "counts": {}}


def test_the_list_is_newest_first_with_member_counts(store: EventStore, project: str) -> None:
    result = groups(store, project)
    assert [(r["id"], r["memberCount"]) for r in result["data"]] == [
        ("acme", 3),
        ("globex", 1),
        ("50%_off", 0),
        ("team-x", 0),
    ]
    assert (result["total"], result["next"]) == (4, None)
    assert result["data"][0] == {
        "id": "acme",
        "type": "company",
        "name": "ACME Corporation",
        "properties": {"plan": "enterprise"},
        "createdAt": "2026-03-02T12:00:00.000Z",
        "memberCount": 3,
    }


def test_the_list_is_paged_and_filtered_by_type(store: EventStore, project: str) -> None:
    first = groups(store, project, limit=3)
    assert (ids(first), first["total"], first["next"]) == (["acme", "globex", "50%_off"], 4, 3)
    second = groups(store, project, limit=3, offset=3)
    assert (ids(second), second["next"]) == (["team-x"], None)
    assert ids(groups(store, project, type="company")) == ["acme", "globex"]
    assert groups(store, project, type="nope")["total"] == 0


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("acme corp", ["acme"]),  # the current name, case-insensitive
        ("Acme Inc", []),  # a replaced name is not searched
        ("GLOB", ["globex"]),  # the id
        ("%", ["50%_off"]),
        ("_", ["50%_off"]),
        ("-", ["team-x"]),
        ("a%b", []),
        (HOSTILE, []),
    ],
)
def test_search_is_literal(
    store: EventStore, project: str, search: str, expected: list[str]
) -> None:
    assert ids(groups(store, project, search=search)) == expected


@pytest.mark.parametrize(
    ("options", "field"),
    [({"limit": 0}, "limit"), ({"offset": -1}, "cursor"), ({"search": "x" * 201}, "search")],
)
def test_bad_list_parameters_name_the_field(
    store: EventStore, project: str, options: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        groups(store, project, **options)
    assert raised.value.field == field


def test_a_group_has_its_members_events_and_last_event(store: EventStore, project: str) -> None:
    acme = group_detail(store, project, "acme")
    assert acme["group"]["name"] == "ACME Corporation"
    assert acme["member_count"] == 3
    assert [m["id"] for m in acme["members"]] == ["u2", "u1", "u3"]  # most recently seen first
    assert acme["members"][1]["firstName"] == "Ada"
    assert acme["members"][1]["groups"] == ["acme", "globex"]
    assert (acme["events"], acme["lastSeen"]) == (3, "2026-03-02T10:05:00.000Z")
    limited = group_detail(store, project, "acme", member_limit=1)
    assert ([m["id"] for m in limited["members"]], limited["member_count"]) == (["u2"], 3)
    globex = group_detail(store, project, "globex")
    assert (globex["member_count"], globex["events"]) == (1, 1)
    empty = group_detail(store, project, "team-x")
    assert (empty["member_count"], empty["members"], empty["events"], empty["lastSeen"]) == (
        0,
        [],
        0,
        None,
    )


def test_unknown_groups_and_bad_member_limits(store: EventStore, project: str) -> None:
    with pytest.raises(NotFoundError):
        group_detail(store, project, "nope")
    with pytest.raises(NotFoundError):
        group_detail(store, "another-project", "acme")
    with pytest.raises(NotFoundError):
        group_detail(store, project, HOSTILE)
    for bad in (0, 51):
        with pytest.raises(ValidationError) as raised:
            group_detail(store, project, "acme", member_limit=bad)
        assert raised.value.field == "memberLimit"
