"""/insights/{projectId}/groups… and engagement (openpanel-compat.md §4.8) for read/root
clients: B2B groups (types, the list, one group with its members) and identified users by how
long ago they were last seen. Thin: read the query string, run a report on the reader pool.
An unknown group is 404 (OpenPanel answers 500); bad parameters are 400 naming the field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from embedded_db.reports.engagement import engagement
from embedded_db.reports.groups import (
    MAX_MEMBERS,
    GroupListQuery,
    group_detail,
    group_types,
    list_groups,
)
from web.people_api import raw_text
from web.query_params import int_param
from web.report_params import paging_of, report_call

AnyRequest = Request[Any, Any, Any]
PREFIX = "/insights/{project_id:str}"


@get(PREFIX + "/engagement", summary="Identified users by days since last seen")
async def insights_engagement(request: AnyRequest, project_id: FromPath[str]) -> Response[Any]:
    call = await report_call(request, project_id)
    return await call.answer(engagement, call.project_id, datetime.now(UTC))


@get(PREFIX + "/groups/types", summary="Group types with their number of groups")
async def insights_group_types(request: AnyRequest, project_id: FromPath[str]) -> Response[Any]:
    call = await report_call(request, project_id)
    return await call.answer(group_types, call.project_id)


@get(PREFIX + "/groups", summary="Groups, newest first, with member counts")
async def insights_groups(request: AnyRequest, project_id: FromPath[str]) -> Response[Any]:
    call = await report_call(request, project_id)
    limit, offset = paging_of(call.params, default=50)
    query = GroupListQuery(
        project_id=call.project_id,
        type=raw_text(request, "type"),
        search=raw_text(request, "search", "q"),
        limit=limit,
        offset=offset,
    )
    return await call.answer(list_groups, query)


@get(PREFIX + "/groups/{group_id:str}", summary="A group with its members and activity")
async def insights_group(
    request: AnyRequest, project_id: FromPath[str], group_id: FromPath[str]
) -> Response[Any]:
    call = await report_call(request, project_id)
    limit = int_param(
        call.params.get("memberLimit"), "memberLimit", default=10, low=1, high=MAX_MEMBERS
    )
    return await call.answer(group_detail, call.project_id, group_id, limit)


GROUPS_HANDLERS: list[Any] = [
    insights_engagement,
    insights_group_types,
    insights_groups,
    insights_group,
]
