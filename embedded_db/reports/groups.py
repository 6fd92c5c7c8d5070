"""Groups — B2B accounts (openpanel-compat.md §4.6 groups, §4.8 `groups…`): the group types,
the searchable list with member counts, and one group with its members and activity.

Groups come from `groups FINAL` (the SDK's `group` call; the newest version wins). Members are
profiles (`profiles FINAL`) whose `groups` hold the group's id (the SDK's `assign_group`); a
group's events are the events whose `groups` hold it, without the pipeline's synthetic
`session_start`/`session_end`. Search is literal (LIKE wildcards escaped) and bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from embedded_db.errors import NotFoundError, ValidationError
from embedded_db.exports import PROFILE_SELECT, camel_profile, iso_time
from embedded_db.filters import NOT_SYNTHETIC, like_pattern
from embedded_db.reports.events import check_search
from embedded_db.reports.sessions import check_page, page
from embedded_db.sql import array_literal, select
from embedded_db.store import EventStore

GROUP_SELECT = "id, type, name, properties, created_at"
MAX_MEMBERS = 50
_PROJECT = "project_id = {project:String}"
_SEARCH = "(id ILIKE {search:String} OR name ILIKE {search:String})"
_MEMBER = "has(groups, {group:String})"


@dataclass
class GroupListQuery:
    project_id: str
    type: str = ""  # only groups of this type ('' for all)
    search: str = ""  # in the id or the name, case-insensitive
    limit: int = 50
    offset: int = 0


def camel_group(row: dict[str, Any]) -> dict[str, Any]:
    """A groups row (the `GROUP_SELECT` columns) in OpenPanel's camelCase shape."""
    return {
        "id": row["id"],
        "type": row["type"],
        "name": row["name"],
        "properties": row["properties"],
        "createdAt": iso_time(row["created_at"]),
    }


def group_types(store: EventStore, project_id: str) -> dict[str, Any]:
    """The project's group types, sorted, and how many groups each has."""
    rows = store.query(
        select(
            "type, count() AS n", "groups", [_PROJECT], "GROUP BY type ORDER BY type", final=True
        ),
        {"project": project_id},
    )
    return {"types": [r["type"] for r in rows], "counts": {r["type"]: int(r["n"]) for r in rows}}


def list_groups(store: EventStore, q: GroupListQuery) -> dict[str, Any]:
    """One page of groups, newest first, each with its `memberCount`, and the total. Raises
    ValidationError for bad paging, search or type."""
    check_page(q.limit, q.offset)
    check_search(q.search)
    if len(q.type) > 256:
        raise ValidationError("type", "at most 256 characters")
    params: dict[str, Any] = {"project": q.project_id, "limit": q.limit, "offset": q.offset}
    where = [_PROJECT]
    if q.type:
        params["type"] = q.type
        where.append("type = {type:String}")
    if q.search:
        params["search"] = like_pattern(q.search)
        where.append(_SEARCH)
    total = int(store.scalar(select("count() AS n", "groups", where, final=True), params) or 0)
    rows = store.query(
        select(
            GROUP_SELECT,
            "groups",
            where,
            "ORDER BY created_at DESC, id LIMIT {limit:UInt32} OFFSET {offset:UInt64}",
            final=True,
        ),
        params,
    )
    counts = member_counts(store, q.project_id, [r["id"] for r in rows])
    data = [{**camel_group(r), "memberCount": counts.get(r["id"], 0)} for r in rows]
    return page(data, total, q.limit, q.offset)


def member_counts(store: EventStore, project_id: str, group_ids: list[str]) -> dict[str, int]:
    """Profiles per group id (ids without members are left out)."""
    if not group_ids:
        return {}
    rows = store.query(
        select(
            "g AS id, count() AS n",
            "profiles",
            [_PROJECT, "g IN {ids:Array(String)}"],
            "GROUP BY g",
            final=True,
            array_join="groups AS g",
        ),
        {"project": project_id, "ids": array_literal(sorted(set(group_ids)))},
    )
    return {r["id"]: int(r["n"]) for r in rows}


def group_detail(
    store: EventStore, project_id: str, group_id: str, member_limit: int = 10
) -> dict[str, Any]:
    """A group, its member count, its `member_limit` most recently seen members (profiles in
    camelCase), its event count and its latest event time (ISO UTC, None without events).
    Raises NotFoundError for an unknown group, ValidationError for a bad member limit."""
    if not 1 <= member_limit <= MAX_MEMBERS:
        raise ValidationError("memberLimit", f"must be between 1 and {MAX_MEMBERS}")
    params: dict[str, Any] = {"project": project_id, "group": group_id, "limit": member_limit}
    found = store.query(
        select(GROUP_SELECT, "groups", [_PROJECT, "id = {group:String}"], final=True), params
    )
    if not found:
        raise NotFoundError(f"group {group_id!r} not found")
    members = [_PROJECT, _MEMBER]
    count = int(store.scalar(select("count() AS n", "profiles", members, final=True), params) or 0)
    profiles = store.query(
        select(
            PROFILE_SELECT,
            "profiles",
            members,
            "ORDER BY last_seen_at DESC, id LIMIT {limit:UInt32}",
            final=True,
        ),
        params,
    )
    [activity] = store.query(
        select(
            "count() AS events, toString(max(created_at)) AS last_seen",
            "events",
            [_PROJECT, _MEMBER, NOT_SYNTHETIC],
        ),
        params,
    )
    events = int(activity["events"])
    return {
        "group": camel_group(found[0]),
        "member_count": count,
        "members": [camel_profile(r, project_id) for r in profiles],
        "events": events,
        "lastSeen": iso_time(activity["last_seen"]) if events else None,
    }
