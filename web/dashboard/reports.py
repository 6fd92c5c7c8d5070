"""The Reports section: the list of saved reports, the report builder (its state lives in the
URL, see report_state.py; htmx re-renders it on every change), CSV downloads, and saving,
renaming, deleting and pinning reports to dashboards. Everyone in the organization builds and
looks at reports; members and above save, change and delete them. Thin: parse, run through
report_run, render."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from embedded_db.errors import ValidationError
from embedded_db.reports.chart_query import METRICS
from embedded_db.reports.chart_sql import SEGMENTS
from embedded_db.reports.events import event_names
from embedded_db.saved_reports import ReportSpec, SavedReport, SavedReports
from embedded_db.store import EventStore
from embedded_db.timeframe import INTERVALS, Window, resolve_range
from web.dashboard.auth import Access, access_of
from web.dashboard.errors import is_htmx
from web.dashboard.forms import form_of, text
from web.dashboard.layout import project_page, project_url, render
from web.dashboard.report_run import csv_rows, csv_text, run
from web.dashboard.report_state import CHART_LABELS, default_spec, has_state, query_of, spec_of
from web.dashboard.view import FILTER_FIELDS, OPERATOR_LABELS, RANGE_LABELS

MEMBER = {"role": "member"}
PAGE_SIZE = 20
BREAKDOWN_FIELDS = (*FILTER_FIELDS[:-1], "region", "referrer", "utm_term", "utm_content")


def saved_reports(request: Request[Any, Any, Any]) -> SavedReports:
    return SavedReports(request.app.state.meta)


def state_url(path: str, spec: ReportSpec) -> str:
    """`path` with the spec as its canonical query string."""
    return path + "?" + urlencode(query_of(spec))


def spec_from_form(form: dict[str, str]) -> ReportSpec:
    """The spec a save form carries in its `state` field (a builder query string)."""
    return spec_of(dict(parse_qsl(form.get("state", ""), keep_blank_values=True)))


async def builder(
    request: Request[Any, Any, Any], access: Access, path: str, report: SavedReport | None
) -> Response[Any]:
    """The builder page (or, for htmx, the builder alone) for the state in the URL."""
    query = dict(request.query_params)
    try:
        if report is not None and not has_state(query):
            spec = report.spec
        else:
            spec = spec_of(query) if has_state(query) else default_spec()
    except ValidationError as exc:
        spec, problem = report.spec if report else default_spec(), str(exc)
    else:
        problem = ""
    canonical = state_url(path, spec)
    if "op" in query and not is_htmx(request):
        return Redirect(canonical, status_code=303)
    store: EventStore = request.app.state.store
    outcome = await run(store, access.project, spec, datetime.now(UTC))
    if problem:
        outcome.error = problem
    context: dict[str, Any] = {
        "spec": spec,
        "report": report,
        "outcome": outcome,
        "path": path,
        "canonical": canonical,
        "state": urlencode(query_of(spec)),
        "csv_url": state_url(project_url(access.project.id, "reports/csv"), spec),
        "charts": CHART_LABELS,
        "segments": SEGMENTS,
        "metrics": METRICS,
        "intervals": INTERVALS,
        "ranges": RANGE_LABELS,
        "fields": FILTER_FIELDS,
        "breakdown_fields": BREAKDOWN_FIELDS,
        "can_edit": access.can("member"),
        "boards": saved_reports(request).dashboards(access.project.id) if report else [],
    }
    status = 400 if outcome.error and problem else 200
    if is_htmx(request):
        headers = {"HX-Push-Url": canonical}
        extra = {"access": access, "project": access.project, "operators": OPERATOR_LABELS}
        return render("report_builder.html", status, headers, **extra, **context)
    window = spec_window(access, datetime.now(UTC))
    names = await store.run(event_names, store, access.project.id, window)
    context["event_names"] = [row["name"] for row in names["data"][:200]]
    return project_page(request, access, "report.html", "reports", status=status, **context)


def spec_window(access: Access, now: datetime) -> Window:
    """The last 30 days, for the event-name suggestions of the builder."""
    return resolve_range("30d", access.project.timezone, now)


class ReportsController(Controller):
    path = "/dashboard/{project_id:str}/reports"

    @get("/", name="reports")
    async def index(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Saved reports: searchable by name, sorted by name or last change, 20 a page."""
        access = access_of(request)
        search = request.query_params.get("q", "")[:100]
        sort = "name" if request.query_params.get("sort") == "name" else "updated"
        page = _page_number(request.query_params.get("page"))
        found, total = saved_reports(request).reports(
            access.project.id, search, sort, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
        pages = max(1, math.ceil(total / PAGE_SIZE))
        base = project_url(access.project.id, "reports")
        return project_page(
            request,
            access,
            "reports.html",
            "reports",
            reports=found,
            total=total,
            search=search,
            sort=sort,
            page=page,
            pages=pages,
            page_url=lambda **k: base + "?" + urlencode({"q": search, "sort": sort, **k}),
            charts=CHART_LABELS,
        )

    @get("/new", name="report-new")
    async def new(self, request: Request[Any, Any, Any]) -> Response[Any]:
        access = access_of(request)
        return await builder(request, access, project_url(access.project.id, "reports/new"), None)

    @get("/csv", name="report-csv")
    async def download(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """The chart data of the state in the URL as CSV (cells that a spreadsheet would run
        as a formula are quoted)."""
        access = access_of(request)
        spec = spec_of(dict(request.query_params))
        store: EventStore = request.app.state.store
        outcome = await run(store, access.project, spec, datetime.now(UTC))
        if outcome.error or outcome.data is None:
            raise ValidationError("report", outcome.error or "no data")
        body = csv_text(csv_rows(outcome.kind, outcome.data))
        name = f"{access.project.id}-{spec.chart_type}-{outcome.range}.csv"
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={
                "content-disposition": f'attachment; filename="{name}"',
                "x-content-type-options": "nosniff",
                "cache-control": "no-store",
            },
        )

    @post("/", status_code=303, opt=MEMBER)
    async def create(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Save the builder's state as a new report."""
        access = access_of(request)
        form = await form_of(request)
        spec = spec_from_form(form)
        name = text(form, "name", 100, required=False) or _default_name(spec)
        saved = saved_reports(request).create_report(
            access.project.id, name, spec, access.viewer.user.id
        )
        return Redirect(project_url(access.project.id, f"reports/{saved.id}"), status_code=303)

    @get("/{report_id:str}", name="report")
    async def show(
        self, request: Request[Any, Any, Any], report_id: FromPath[str]
    ) -> Response[Any]:
        access = access_of(request)
        report = saved_reports(request).report(access.project.id, report_id)
        path = project_url(access.project.id, f"reports/{report.id}")
        return await builder(request, access, path, report)

    @post("/{report_id:str}", status_code=303, opt=MEMBER)
    async def save(
        self, request: Request[Any, Any, Any], report_id: FromPath[str]
    ) -> Response[Any]:
        """Replace a saved report's state with the builder's."""
        access = access_of(request)
        spec = spec_from_form(await form_of(request))
        saved = saved_reports(request).update_report(access.project.id, report_id, spec)
        return Redirect(project_url(access.project.id, f"reports/{saved.id}"), status_code=303)

    @post("/{report_id:str}/rename", status_code=303, opt=MEMBER)
    async def rename(
        self, request: Request[Any, Any, Any], report_id: FromPath[str]
    ) -> Response[Any]:
        access = access_of(request)
        name = (await form_of(request)).get("name", "")
        saved_reports(request).rename_report(access.project.id, report_id, name)
        return Redirect(project_url(access.project.id, f"reports/{report_id}"), status_code=303)

    @post("/{report_id:str}/delete", status_code=303, opt=MEMBER)
    async def delete(
        self, request: Request[Any, Any, Any], report_id: FromPath[str]
    ) -> Response[Any]:
        access = access_of(request)
        saved_reports(request).delete_report(access.project.id, report_id)
        return Redirect(project_url(access.project.id, "reports"), status_code=303)

    @post("/{report_id:str}/pin", status_code=303, opt=MEMBER)
    async def pin(self, request: Request[Any, Any, Any], report_id: FromPath[str]) -> Response[Any]:
        """Put the report on a dashboard (`dashboard`: an id, or empty for a new one named
        `new_name`) and open that dashboard."""
        access = access_of(request)
        form = await form_of(request)
        store = saved_reports(request)
        store.report(access.project.id, report_id)
        board_id = form.get("dashboard", "")
        if not board_id:
            name = text(form, "new_name", 100, required=False) or "My dashboard"
            board_id = store.create_dashboard(access.project.id, name, access.viewer.user.id).id
        store.add_tile(access.project.id, board_id, report_id)
        return Redirect(project_url(access.project.id, f"dashboards/{board_id}"), status_code=303)


def _page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 100_000 else 1


def _default_name(spec: ReportSpec) -> str:
    names = [str(s.get("name") or s.get("formula") or "") for s in spec.series]
    label = " → " if spec.chart_type in ("funnel", "conversion") else ", "
    return (CHART_LABELS[spec.chart_type] + ": " + label.join(n for n in names if n))[:100]
