"""The frame every project page shares: sidebar navigation, project switcher and the view bar
(date range, interval, comparison, filter chips), and the `render` helper pages answer with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.response import Template

from web.dashboard.auth import Access
from web.dashboard.state import dashboard
from web.dashboard.templates import SECURITY_HEADERS
from web.dashboard.view import FILTER_FIELDS, OPERATOR_LABELS, View

NAV = (
    ("overview", "Overview"),
    ("realtime", "Realtime"),
    ("pages", "Pages"),
    ("events", "Events"),
    ("profiles", "Profiles"),
    ("sessions", "Sessions"),
    ("reports", "Reports"),
    ("dashboards", "Dashboards"),
    ("settings", "Settings"),
)


@dataclass(frozen=True, slots=True)
class NavItem:
    key: str
    label: str
    url: str
    active: bool


def project_url(project_id: str, section: str = "overview") -> str:
    return f"/dashboard/{project_id}/{section}"


def nav(access: Access, current: str, view: View | None) -> list[NavItem]:
    """The sidebar: each section of the current project, keeping the view's range and filters."""
    items = []
    for key, label in NAV:
        if key == "settings":
            target = "settings" if access.can("admin") else "settings/account"
            url = project_url(access.project.id, target)
        else:
            path = project_url(access.project.id, key)
            url = view.url(path) if view else path
        items.append(NavItem(key, label, url, key == current))
    return items


def switcher(access: Access, section: str, view: View | None) -> list[NavItem]:
    """The project switcher: the same section in each project the viewer can open."""
    target = section if section in dict(NAV) and section != "settings" else "overview"
    return [
        NavItem(
            p.id,
            p.name,
            view.url(project_url(p.id, target)) if view else project_url(p.id, target),
            p.id == access.project.id,
        )
        for p in access.projects
    ]


def render(
    template: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Template:
    """A page with the dashboard's security headers (strict CSP: no inline scripts)."""
    return Template(
        template_name=template,
        context=context,
        status_code=status,
        headers={**SECURITY_HEADERS, **(headers or {})},
    )


def project_page(
    request: Request[Any, Any, Any],
    access: Access,
    template: str,
    section: str,
    view: View | None = None,
    status: int = 200,
    **context: Any,
) -> Template:
    """A page inside the project frame (sidebar, switcher, and the view bar when `view`)."""
    return render(
        template,
        status=status,
        access=access,
        user=access.viewer.user,
        project=access.project,
        section=section,
        nav=nav(access, section, view),
        projects=switcher(access, section, view),
        view=view,
        filter_fields=FILTER_FIELDS,
        operators=OPERATOR_LABELS,
        geo_attribution=dashboard(request.app).geo_attribution,
        **context,
    )
