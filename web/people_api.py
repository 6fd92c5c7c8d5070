"""/insights/{projectId}/profiles, sessions, events and user_flow (openpanel-compat.md §4.8) for
read/root clients: people, visits, events and paths over HTTP. Thin: read the query string
(OpenPanel's coercion; free text is taken raw), build a report query, run it on the reader
pool. Unknown profiles and visits are 404; bad parameters are 400 naming the field."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from embedded_db.errors import ValidationError
from embedded_db.filters import parse_filters
from embedded_db.reports.events import (
    EventListQuery,
    event_names,
    event_properties,
    list_events,
    property_values,
)
from embedded_db.reports.flows import FlowEvent, FlowQuery, user_flow
from embedded_db.reports.profiles import (
    PowerUsersQuery,
    ProfileListQuery,
    get_profile,
    list_profiles,
    power_users,
    profile_detail,
    profile_metrics,
)
from embedded_db.reports.sessions import SessionQuery, list_sessions, session_detail
from embedded_db.timeframe import Window
from web.query_params import int_param
from web.report_params import (
    Params,
    event_names_of,
    paging_of,
    report_call,
    window_of,
)
from web.responses import json_response

AnyRequest = Request[Any, Any, Any]
PREFIX = "/insights/{project_id:str}"


# -- parameters -----------------------------------------------------------------------------------
def raw_text(request: AnyRequest, *names: str) -> str:
    """The raw (uncoerced) value of the first of `names` given, or ''."""
    for name in names:
        value = request.query_params.get(name)
        if value not in (None, ""):
            return str(value)
    return ""


def flag_of(params: Params, *names: str) -> bool:
    for name in names:
        value = params.get(name)
        if value in (None, ""):
            continue
        if value in (True, False, 0, 1):
            return bool(value)
        raise ValidationError(name, "must be true or false")
    return False


def optional_window(params: Params, timezone: str) -> Window | None:
    """A window only when `range` or dates are given (profile lists default to all time)."""
    if not any(params.get(k) not in (None, "") for k in ("range", "startDate", "endDate")):
        return None
    return window_of(params, timezone, "custom")[1]


def flow_event_of(request: AnyRequest, params: Params, field: str, *names: str) -> FlowEvent | None:
    """An anchor: a plain event name, or OpenPanel's `{name, filters}` JSON object."""
    value = next((params[n] for n in names if params.get(n) not in (None, "")), None)
    if value is None:
        return None
    if isinstance(value, dict):
        name = value.get("name")
        if not isinstance(name, str):
            raise ValidationError(field, "needs a name")
        return FlowEvent(name, parse_filters(value.get("filters")))
    if isinstance(value, list):
        raise ValidationError(field, "must be an event name or {name, filters}")
    return FlowEvent(raw_text(request, *names))


# -- user flow ------------------------------------------------------------------------------------
@get(PREFIX + "/user_flow", summary="User flow (sankey) after, before or between events")
async def insights_user_flow(request: AnyRequest, project_id: FromPath[str]) -> Response[Any]:
    call = await report_call(request, project_id)
    params = call.params
    _, window = call.window("30d")
    start = flow_event_of(request, params, "event", "event", "startEvent")
    query = FlowQuery(
        project_id=call.project_id,
        window=window,
        start=start or FlowEvent(""),
        mode=raw_text(request, "mode") or "after",
        end=flow_event_of(request, params, "endEvent", "endEvent"),
        steps=int_param(params.get("steps"), "steps", default=5, low=2, high=10),
        include=event_names_of(params.get("include"), "include") or [],
        exclude=event_names_of(params.get("exclude"), "exclude") or [],
        filters=parse_filters(params.get("filters")),
    )
    return json_response(await call.run(user_flow, query))


# -- profiles -------------------------------------------------------------------------------------
@get(PREFIX + "/profiles", summary="Profiles, most recently seen first")
async def insights_profiles(request: AnyRequest, project_id: FromPath[str]) -> Response[Any]:
    call = await report_call(request, project_id)
    params = call.params
    limit, offset = paging_of(params, default=50)
    query = ProfileListQuery(
        project_id=call.project_id,
        search=raw_text(request, "search", "q"),
        identified=flag_of(params, "identified", "isExternal"),
        limit=limit,
        offset=offset,
    )
    return json_response(await call.run(list_profiles, query))


@get(PREFIX + "/power_users", summary="Profiles with the most events in the range")
async def insights_power_users(request: AnyRequest, project_id: FromPath[str]) -> Response[Any]:
    call = await report_call(request, project_id)
    params = call.params
    _, window = call.window("30d")
    limit, offset = paging_of(params, default=10)
    query = PowerUsersQuery(
        project_id=call.project_id,
        window=window,
        identified=flag_of(params, "identified", "isExternal"),
        limit=limit,
        offset=offset,
    )
    return json_response(await call.run(power_users, query))


@get(PREFIX + "/profiles/{profile_id:str}", summary="A profile with its recent events")
async def insights_profile(
    request: AnyRequest, project_id: FromPath[str], profile_id: FromPath[str]
) -> Response[Any]:
    call = await report_call(request, project_id)
    _, window = call.window("12m")
    detail = await call.run(profile_detail, call.project_id, profile_id, window)
    return json_response(detail)


@get(PREFIX + "/profiles/{profile_id:str}/metrics", summary="A profile's all-time numbers")
async def insights_profile_metrics(
    request: AnyRequest, project_id: FromPath[str], profile_id: FromPath[str]
) -> Response[Any]:
    call = await report_call(request, project_id)
    return json_response(await call.run(profile_metrics, call.project_id, profile_id))


@get(PREFIX + "/profiles/{profile_id:str}/sessions", summary="A profile's visits")
async def insights_profile_sessions(
    request: AnyRequest, project_id: FromPath[str], profile_id: FromPath[str]
) -> Response[Any]:
    call = await report_call(request, project_id)
    params = call.params
    await call.run(get_profile, call.project_id, profile_id)
    limit, offset = paging_of(params, default=50)
    query = SessionQuery(
        project_id=call.project_id,
        window=optional_window(params, call.project.timezone),
        filters=parse_filters(params.get("filters")),
        profile_id=profile_id,
        limit=limit,
        offset=offset,
    )
    return json_response(await call.run(list_sessions, query))


@get(PREFIX + "/profiles/{profile_id:str}/events", summary="A profile's events, newest first")
async def insights_profile_events(
    request: AnyRequest, project_id: FromPath[str], profile_id: FromPath[str]
) -> Response[Any]:
    call = await report_call(request, project_id)
    params = call.params
    await call.run(get_profile, call.project_id, profile_id)
    query = _event_query(request, params, call.project_id, None)
    query.profile_id = profile_id
    query.window = optional_window(params, call.project.timezone)
    return json_response(await call.run(list_events, query))


# -- sessions -------------------------------------------------------------------------------------
@get(PREFIX + "/sessions", summary="Visits, newest first")
async def insights_sessions(request: AnyRequest, project_id: FromPath[str]) -> Response[Any]:
    call = await report_call(request, project_id)
    params = call.params
    _, window = call.window("30d")
    limit, offset = paging_of(params, default=50)
    query = SessionQuery(
        project_id=call.project_id,
        window=window,
        filters=parse_filters(params.get("filters")),
        limit=limit,
        offset=offset,
    )
    return json_response(await call.run(list_sessions, query))


@get(PREFIX + "/sessions/{session_id:str}", summary="A visit and its event timeline")
async def insights_session(
    request: AnyRequest, project_id: FromPath[str], session_id: FromPath[str]
) -> Response[Any]:
    call = await report_call(request, project_id)
    return json_response(await call.run(session_detail, call.project_id, session_id))


# -- events ---------------------------------------------------------------------------------------
def _event_query(
    request: AnyRequest, params: Params, project_id: str, window: Window | None
) -> EventListQuery:
    limit, offset = paging_of(params, default=50)
    names = (
        event_names_of(params.get("event") or params.get("events") or params.get("name"), "event")
        or []
    )
    return EventListQuery(
        project_id=project_id,
        window=window,
        filters=parse_filters(params.get("filters")),
        names=names,
        search=raw_text(request, "search", "q"),
        limit=limit,
        offset=offset,
    )


@get(PREFIX + "/events", summary="Events, newest first")
async def insights_events(request: AnyRequest, project_id: FromPath[str]) -> Response[Any]:
    call = await report_call(request, project_id)
    params = call.params
    _, window = call.window("30d")
    query = _event_query(request, params, call.project_id, window)
    return json_response(await call.run(list_events, query))


@get(PREFIX + "/events/names", summary="Event names with counts")
async def insights_event_names(request: AnyRequest, project_id: FromPath[str]) -> Response[Any]:
    call = await report_call(request, project_id)
    _, window = call.window("30d")
    return json_response(await call.run(event_names, call.project_id, window))


@get(PREFIX + "/events/properties", summary="Property keys of an event with counts")
async def insights_event_properties(
    request: AnyRequest, project_id: FromPath[str]
) -> Response[Any]:
    call = await report_call(request, project_id)
    _, window = call.window("30d")
    event = raw_text(request, "event") or None
    result = await call.run(event_properties, call.project_id, window, event)
    return json_response(result)


@get(PREFIX + "/events/property_values", summary="Top values of a property with counts")
async def insights_property_values(request: AnyRequest, project_id: FromPath[str]) -> Response[Any]:
    call = await report_call(request, project_id)
    params = call.params
    _, window = call.window("30d")
    limit = int_param(params.get("limit"), "limit", default=50, low=1, high=1000)
    prop = raw_text(request, "property")
    event = raw_text(request, "event") or None
    result = await call.run(property_values, call.project_id, window, prop, event, limit)
    return json_response(result)


PEOPLE_HANDLERS: list[Any] = [
    insights_user_flow,
    insights_profiles,
    insights_power_users,
    insights_profile,
    insights_profile_metrics,
    insights_profile_sessions,
    insights_profile_events,
    insights_sessions,
    insights_session,
    insights_events,
    insights_event_names,
    insights_event_properties,
    insights_property_values,
]
