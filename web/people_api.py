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
from web.query_params import int_param, list_param
from web.report_params import Params, params_of, window_of
from web.responses import json_response
from web.security import read_caller

AnyRequest = Request[Any, Any, Any]
PREFIX = "/insights/{project_id:str}"


# -- parameters -----------------------------------------------------------------------------------
def text_of(request: AnyRequest, *names: str) -> str:
    """The raw (uncoerced) value of the first of `names` given, or ''."""
    for name in names:
        value = request.query_params.get(name)
        if value not in (None, ""):
            return str(value)
    return ""


def names_of(value: Any, field: str) -> list[str]:
    """Event names from a JSON array or a comma list."""
    if isinstance(value, dict):
        raise ValidationError(field, "must be a JSON array or a comma list of event names")
    return [str(v) for v in list_param(value) if v not in (None, "")]


def flag_of(params: Params, *names: str) -> bool:
    for name in names:
        value = params.get(name)
        if value in (None, ""):
            continue
        if value in (True, False, 0, 1):
            return bool(value)
        raise ValidationError(name, "must be true or false")
    return False


def paging_of(params: Params, default: int = 50) -> tuple[int, int]:
    """(limit, offset) from `limit` and `cursor`."""
    limit = int_param(params.get("limit"), "limit", default=default, low=1, high=1000)
    offset = int_param(params.get("cursor"), "cursor", default=0, low=0, high=10**9)
    return limit, offset


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
    return FlowEvent(text_of(request, *names))


# -- user flow ------------------------------------------------------------------------------------
@get(PREFIX + "/user_flow", summary="User flow (sankey) after, before or between events")
async def insights_user_flow(request: AnyRequest, project_id: FromPath[str]) -> Response[Any]:
    caller = await read_caller(request, project_id)
    params = params_of(request)
    _, window = window_of(params, caller.project.timezone, "30d")
    start = flow_event_of(request, params, "event", "event", "startEvent")
    query = FlowQuery(
        project_id=caller.project.id,
        window=window,
        start=start or FlowEvent(""),
        mode=text_of(request, "mode") or "after",
        end=flow_event_of(request, params, "endEvent", "endEvent"),
        steps=int_param(params.get("steps"), "steps", default=5, low=2, high=10),
        include=names_of(params.get("include"), "include"),
        exclude=names_of(params.get("exclude"), "exclude"),
        filters=parse_filters(params.get("filters")),
    )
    store = request.app.state.store
    return json_response(await store.run(user_flow, store, query))


# -- profiles -------------------------------------------------------------------------------------
@get(PREFIX + "/profiles", summary="Profiles, most recently seen first")
async def insights_profiles(request: AnyRequest, project_id: FromPath[str]) -> Response[Any]:
    caller = await read_caller(request, project_id)
    params = params_of(request)
    limit, offset = paging_of(params)
    query = ProfileListQuery(
        project_id=caller.project.id,
        search=text_of(request, "search", "q"),
        identified=flag_of(params, "identified", "isExternal"),
        limit=limit,
        offset=offset,
    )
    store = request.app.state.store
    return json_response(await store.run(list_profiles, store, query))


@get(PREFIX + "/power_users", summary="Profiles with the most events in the range")
async def insights_power_users(request: AnyRequest, project_id: FromPath[str]) -> Response[Any]:
    caller = await read_caller(request, project_id)
    params = params_of(request)
    _, window = window_of(params, caller.project.timezone, "30d")
    limit, offset = paging_of(params, default=10)
    query = PowerUsersQuery(
        project_id=caller.project.id,
        window=window,
        identified=flag_of(params, "identified", "isExternal"),
        limit=limit,
        offset=offset,
    )
    store = request.app.state.store
    return json_response(await store.run(power_users, store, query))


@get(PREFIX + "/profiles/{profile_id:str}", summary="A profile with its recent events")
async def insights_profile(
    request: AnyRequest, project_id: FromPath[str], profile_id: FromPath[str]
) -> Response[Any]:
    caller = await read_caller(request, project_id)
    params = params_of(request)
    _, window = window_of(params, caller.project.timezone, "12m")
    store = request.app.state.store
    detail = await store.run(profile_detail, store, caller.project.id, profile_id, window)
    return json_response(detail)


@get(PREFIX + "/profiles/{profile_id:str}/metrics", summary="A profile's all-time numbers")
async def insights_profile_metrics(
    request: AnyRequest, project_id: FromPath[str], profile_id: FromPath[str]
) -> Response[Any]:
    caller = await read_caller(request, project_id)
    store = request.app.state.store
    return json_response(await store.run(profile_metrics, store, caller.project.id, profile_id))


@get(PREFIX + "/profiles/{profile_id:str}/sessions", summary="A profile's visits")
async def insights_profile_sessions(
    request: AnyRequest, project_id: FromPath[str], profile_id: FromPath[str]
) -> Response[Any]:
    caller = await read_caller(request, project_id)
    params = params_of(request)
    store = request.app.state.store
    await store.run(get_profile, store, caller.project.id, profile_id)
    limit, offset = paging_of(params)
    query = SessionQuery(
        project_id=caller.project.id,
        window=optional_window(params, caller.project.timezone),
        filters=parse_filters(params.get("filters")),
        profile_id=profile_id,
        limit=limit,
        offset=offset,
    )
    return json_response(await store.run(list_sessions, store, query))


@get(PREFIX + "/profiles/{profile_id:str}/events", summary="A profile's events, newest first")
async def insights_profile_events(
    request: AnyRequest, project_id: FromPath[str], profile_id: FromPath[str]
) -> Response[Any]:
    caller = await read_caller(request, project_id)
    params = params_of(request)
    store = request.app.state.store
    await store.run(get_profile, store, caller.project.id, profile_id)
    query = _event_query(request, params, caller.project.id, None)
    query.profile_id = profile_id
    query.window = optional_window(params, caller.project.timezone)
    return json_response(await store.run(list_events, store, query))


# -- sessions -------------------------------------------------------------------------------------
@get(PREFIX + "/sessions", summary="Visits, newest first")
async def insights_sessions(request: AnyRequest, project_id: FromPath[str]) -> Response[Any]:
    caller = await read_caller(request, project_id)
    params = params_of(request)
    _, window = window_of(params, caller.project.timezone, "30d")
    limit, offset = paging_of(params)
    query = SessionQuery(
        project_id=caller.project.id,
        window=window,
        filters=parse_filters(params.get("filters")),
        limit=limit,
        offset=offset,
    )
    store = request.app.state.store
    return json_response(await store.run(list_sessions, store, query))


@get(PREFIX + "/sessions/{session_id:str}", summary="A visit and its event timeline")
async def insights_session(
    request: AnyRequest, project_id: FromPath[str], session_id: FromPath[str]
) -> Response[Any]:
    caller = await read_caller(request, project_id)
    store = request.app.state.store
    return json_response(await store.run(session_detail, store, caller.project.id, session_id))


# -- events ---------------------------------------------------------------------------------------
def _event_query(
    request: AnyRequest, params: Params, project_id: str, window: Window | None
) -> EventListQuery:
    limit, offset = paging_of(params)
    names = names_of(params.get("event") or params.get("events") or params.get("name"), "event")
    return EventListQuery(
        project_id=project_id,
        window=window,
        filters=parse_filters(params.get("filters")),
        names=names,
        search=text_of(request, "search", "q"),
        limit=limit,
        offset=offset,
    )


@get(PREFIX + "/events", summary="Events, newest first")
async def insights_events(request: AnyRequest, project_id: FromPath[str]) -> Response[Any]:
    caller = await read_caller(request, project_id)
    params = params_of(request)
    _, window = window_of(params, caller.project.timezone, "30d")
    query = _event_query(request, params, caller.project.id, window)
    store = request.app.state.store
    return json_response(await store.run(list_events, store, query))


@get(PREFIX + "/events/names", summary="Event names with counts")
async def insights_event_names(request: AnyRequest, project_id: FromPath[str]) -> Response[Any]:
    caller = await read_caller(request, project_id)
    _, window = window_of(params_of(request), caller.project.timezone, "30d")
    store = request.app.state.store
    return json_response(await store.run(event_names, store, caller.project.id, window))


@get(PREFIX + "/events/properties", summary="Property keys of an event with counts")
async def insights_event_properties(
    request: AnyRequest, project_id: FromPath[str]
) -> Response[Any]:
    caller = await read_caller(request, project_id)
    _, window = window_of(params_of(request), caller.project.timezone, "30d")
    event = text_of(request, "event") or None
    store = request.app.state.store
    result = await store.run(event_properties, store, caller.project.id, window, event)
    return json_response(result)


@get(PREFIX + "/events/property_values", summary="Top values of a property with counts")
async def insights_property_values(request: AnyRequest, project_id: FromPath[str]) -> Response[Any]:
    caller = await read_caller(request, project_id)
    params = params_of(request)
    _, window = window_of(params, caller.project.timezone, "30d")
    limit = int_param(params.get("limit"), "limit", default=50, low=1, high=1000)
    prop = text_of(request, "property")
    event = text_of(request, "event") or None
    store = request.app.state.store
    result = await store.run(property_values, store, caller.project.id, window, prop, event, limit)
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
