"""Internal endpoints under `/-/`: health (chDB, SQLite, spool, pipeline, job consumer) and
version; plus OpenPanel's `/healthcheck`, `/healthz/*` and `GET /` for tools that expect them."""

from __future__ import annotations

import time
from importlib import metadata
from typing import Any

from litestar import Request, Response, get
from litestar.response import Redirect

from web.responses import json_response


def _version() -> str:
    try:
        return metadata.version("openpanel-appliance")
    except metadata.PackageNotFoundError:
        return "0+unknown"


async def health_report(request: Request[Any, Any, Any]) -> tuple[bool, dict[str, Any]]:
    state = request.app.state
    checks: dict[str, Any] = {}

    def check(name: str, fn: Any) -> None:
        try:
            detail = fn()
            checks[name] = {"ok": True, **(detail or {})}
        except Exception as exc:  # health must report, never raise
            checks[name] = {"ok": False, "error": str(exc)[:300]}

    check("chdb", lambda: {"latency_ms": round(state.store.ping(), 2)})
    check("sqlite", lambda: state.meta.ping())

    def spool() -> dict[str, Any]:
        if not state.spool.alive:
            raise RuntimeError("spool committer is not running")
        if state.spool.last_error:
            raise RuntimeError(state.spool.last_error)
        return {"backlog": state.spool.backlog(), "dead_letters": state.spool.dead_letters()}

    def pipeline() -> dict[str, Any]:
        if not state.pipeline.alive:
            raise RuntimeError("pipeline thread is not running")
        if state.pipeline.last_error:
            raise RuntimeError(state.pipeline.last_error)
        return {
            "stored_events": state.pipeline.stored_events,
            "live_sessions": len(state.pipeline.visits.visits),
        }

    def consumer() -> None:
        if not state.consumer.alive:
            raise RuntimeError("job consumer is not running")

    check("spool", spool)
    check("pipeline", pipeline)
    check("consumer", consumer)
    return all(c["ok"] for c in checks.values()), checks


@get("/-/health", summary="Health of every part of the appliance", include_in_schema=True)
async def health(request: Request[Any, Any, Any]) -> Response[Any]:
    ok, checks = await health_report(request)
    return json_response({"ok": ok, "checks": checks}, 200 if ok else 503)


@get("/-/version", summary="Version of the appliance and its engines")
async def version(request: Request[Any, Any, Any]) -> Response[Any]:
    import chdb
    import litestar

    return json_response(
        {
            "version": _version(),
            "chdb": getattr(chdb, "__version__", ""),
            "litestar": litestar.__version__.formatted(short=True)
            if hasattr(litestar.__version__, "formatted")
            else str(litestar.__version__),
            "started_at": request.app.state.started_at,
            "uptime_s": round(time.time() - request.app.state.started_at, 1),
        }
    )


@get("/healthcheck", summary="OpenPanel-style readiness")
async def healthcheck(request: Request[Any, Any, Any]) -> Response[Any]:
    ok, checks = await health_report(request)
    return json_response(
        {
            "ready": ok,
            "ch": checks["chdb"]["ok"],
            "db": checks["sqlite"]["ok"],
            "failedDependencies": [k for k, v in checks.items() if not v["ok"]],
            "workingDependencies": [k for k, v in checks.items() if v["ok"]],
        },
        200 if ok else 503,
    )


@get("/healthz/live", summary="Liveness")
async def healthz_live() -> Response[Any]:
    return json_response({"live": True})


@get("/healthz/ready", summary="Readiness")
async def healthz_ready(request: Request[Any, Any, Any]) -> Response[Any]:
    ok, _ = await health_report(request)
    return json_response({"ready": ok}, 200 if ok else 503)


@get("/", summary="API root (browsers are sent to the dashboard)")
async def root(request: Request[Any, Any, Any]) -> Response[Any]:
    if "text/html" in request.headers.get("accept", ""):
        return Redirect("/dashboard", status_code=303)
    return json_response({"status": "ok", "message": "Successfully running OpenPanel Appliance"})


INTERNAL_HANDLERS = [health, version, healthcheck, healthz_live, healthz_ready, root]
