"""Saved reports, dashboards (a grid of saved reports) and public share links in the MetaStore.

A report is stored in the shape of OpenPanel's Report model (openpanel-compat.md §3.2): chart
type, interval, range, series, breakdowns, global filters, metric, previous, funnel and
retention options, with JSON columns for the lists. A report may sit on several dashboards;
`report_layouts` holds its place (position) and size (width in twelfths, height in rows).

A share is a random URL token for the project's overview or one dashboard, optionally guarded
by a password (an argon2id hash); revoking keeps the row so the token never comes back. Every
method is one short transaction and checks that ids belong to the given project (NotFoundError
otherwise), so one project can never reach another's rows.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from embedded_db.accounts import utc_now
from embedded_db.errors import NotFoundError, ValidationError
from embedded_db.meta import MetaStore, hash_secret, verify_secret

WIDTHS = (3, 4, 6, 8, 12)  # tile widths in twelfths of the grid
HEIGHTS = (1, 2, 3)  # tile heights in grid rows
DEFAULT_W, DEFAULT_H = 6, 1
SHARE_KINDS = ("overview", "dashboard")
NAME_MAX = 100
PASSWORD_MIN, PASSWORD_MAX = 4, 1024
_JSON_COLUMNS = ("series", "breakdowns", "global_filters", "options")
_REPORT = "SELECT * FROM reports WHERE project_id = ? AND id = ?"
_PAGES = {
    "updated": "SELECT * FROM reports WHERE project_id = ? AND instr(lower(name), lower(?)) > 0 "
    "ORDER BY updated_at DESC, name LIMIT ? OFFSET ?",
    "name": "SELECT * FROM reports WHERE project_id = ? AND instr(lower(name), lower(?)) > 0 "
    "ORDER BY name COLLATE NOCASE, updated_at DESC LIMIT ? OFFSET ?",
}
_COUNT = "SELECT count(*) FROM reports WHERE project_id = ? AND instr(lower(name), lower(?)) > 0"


@dataclass
class ReportSpec:
    """What a report shows (OpenPanel's Report fields); series are OpenPanel series objects."""

    chart_type: str = "linear"
    series: list[dict[str, Any]] = field(default_factory=list)
    breakdowns: list[dict[str, Any]] = field(default_factory=list)
    global_filters: list[dict[str, Any]] = field(default_factory=list)
    range: str = "30d"
    start_date: str | None = None
    end_date: str | None = None
    interval: str | None = None
    formula: str | None = None
    metric: str = "sum"
    previous: bool = False
    criteria: str = "on_or_after"
    funnel_group: str = "session_id"
    funnel_window: float = 24.0
    options: dict[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """The spec as report-table columns (lists and options as JSON text)."""
        values = asdict(self)
        for name in _JSON_COLUMNS:
            values[name] = json.dumps(values[name])
        values["previous"] = int(self.previous)
        return values

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ReportSpec:
        values = {name: row[name] for name in cls.__dataclass_fields__}
        for name in _JSON_COLUMNS:
            values[name] = json.loads(values[name] or ("{}" if name == "options" else "[]"))
        values["previous"] = bool(values["previous"])
        values["funnel_window"] = float(values["funnel_window"] or 24)
        return cls(**values)


@dataclass(frozen=True)
class SavedReport:
    id: str
    project_id: str
    name: str
    spec: ReportSpec
    created_by: str
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class Dashboard:
    id: str
    project_id: str
    name: str
    created_by: str
    created_at: str
    updated_at: str
    tiles: int = 0


@dataclass(frozen=True)
class Tile:
    """A report's place on a dashboard: order, width (twelfths) and height (rows)."""

    report: SavedReport
    position: int
    w: int
    h: int


@dataclass(frozen=True, slots=True)
class Share:
    id: str
    project_id: str
    kind: str
    dashboard_id: str | None
    password_hash: str | None
    created_by: str
    created_at: str
    revoked_at: str | None = None

    @property
    def protected(self) -> bool:
        return bool(self.password_hash)


def check_name(name: str, field_name: str = "name") -> str:
    """A trimmed name of 1 to NAME_MAX characters; ValidationError(field_name) otherwise."""
    text = name.strip()
    if not 1 <= len(text) <= NAME_MAX:
        raise ValidationError(field_name, f"give it a name of 1 to {NAME_MAX} characters")
    return text


class SavedReports:
    """Reports, dashboards, their grid and share links of each project."""

    def __init__(self, meta: MetaStore, clock: Callable[[], datetime] = utc_now) -> None:
        self.meta = meta
        self.clock = clock

    def _now(self) -> str:
        return self.clock().astimezone(UTC).isoformat(timespec="milliseconds")

    def _set(self, table: str, row_id: str, values: dict[str, Any]) -> None:
        with self.meta.transaction() as db:
            db.table(table).update(row_id, {**values, "updated_at": self._now()})

    # -- reports -------------------------------------------------------------------------------
    def create_report(
        self, project_id: str, name: str, spec: ReportSpec, created_by: str
    ) -> SavedReport:
        """A new saved report of the project."""
        now = self._now()
        row = {
            "id": uuid.uuid4().hex,
            "project_id": project_id,
            "name": check_name(name),
            **spec.row(),
            "created_by": created_by,
            "created_at": now,
            "updated_at": now,
        }
        with self.meta.transaction() as db:
            db.table("reports").insert(row)
        return _report(row)

    def report(self, project_id: str, report_id: str) -> SavedReport:
        """A report of the project; NotFoundError otherwise."""
        with self.meta.transaction() as db:
            rows = _rows(db, _REPORT, [project_id, report_id])
        if not rows:
            raise NotFoundError("this report does not exist (any more)")
        return _report(rows[0])

    def reports(
        self,
        project_id: str,
        search: str = "",
        sort: str = "updated",
        *,
        limit: int = 1000,
        offset: int = 0,
    ) -> tuple[list[SavedReport], int]:
        """A page of the project's reports whose name contains `search`, sorted by `updated`
        (newest first) or `name`, and how many match."""
        args = [project_id, search]
        with self.meta.transaction() as db:
            rows = _rows(db, _PAGES.get(sort, _PAGES["updated"]), [*args, limit, offset])
            total = int(db.execute(_COUNT, args).fetchone()[0])
        return [_report(r) for r in rows], total

    def update_report(self, project_id: str, report_id: str, spec: ReportSpec) -> SavedReport:
        """Replace what a report shows."""
        self.report(project_id, report_id)
        self._set("reports", report_id, spec.row())
        return self.report(project_id, report_id)

    def rename_report(self, project_id: str, report_id: str, name: str) -> None:
        self.report(project_id, report_id)
        self._set("reports", report_id, {"name": check_name(name)})

    def delete_report(self, project_id: str, report_id: str) -> None:
        """Delete a report and take it off every dashboard."""
        self.report(project_id, report_id)
        with self.meta.transaction() as db:
            db.execute("DELETE FROM report_layouts WHERE report_id = ?", [report_id])
            db.execute("DELETE FROM reports WHERE id = ?", [report_id])

    # -- dashboards ----------------------------------------------------------------------------
    def create_dashboard(self, project_id: str, name: str, created_by: str) -> Dashboard:
        now = self._now()
        board = Dashboard(uuid.uuid4().hex, project_id, check_name(name), created_by, now, now)
        with self.meta.transaction() as db:
            db.table("dashboards").insert({k: v for k, v in asdict(board).items() if k != "tiles"})
        return board

    def dashboard(self, project_id: str, dashboard_id: str) -> Dashboard:
        """A dashboard of the project; NotFoundError otherwise."""
        found = [d for d in self.dashboards(project_id) if d.id == dashboard_id]
        if not found:
            raise NotFoundError("this dashboard does not exist (any more)")
        return found[0]

    def dashboards(self, project_id: str) -> list[Dashboard]:
        """The project's dashboards by name, each with its number of reports."""
        with self.meta.transaction() as db:
            rows = _rows(
                db,
                "SELECT d.*, (SELECT count(*) FROM report_layouts l WHERE l.dashboard_id = d.id) "
                "AS tiles FROM dashboards d WHERE d.project_id = ? "
                "ORDER BY d.name COLLATE NOCASE, d.created_at",
                [project_id],
            )
        return [Dashboard(**r) for r in rows]

    def rename_dashboard(self, project_id: str, dashboard_id: str, name: str) -> None:
        self.dashboard(project_id, dashboard_id)
        self._set("dashboards", dashboard_id, {"name": check_name(name)})

    def delete_dashboard(self, project_id: str, dashboard_id: str) -> None:
        """Delete a dashboard (its reports stay) and revoke its share links."""
        self.dashboard(project_id, dashboard_id)
        with self.meta.transaction() as db:
            db.execute("DELETE FROM report_layouts WHERE dashboard_id = ?", [dashboard_id])
            db.execute(
                "UPDATE shares SET revoked_at = ? WHERE dashboard_id = ? AND revoked_at IS NULL",
                [self._now(), dashboard_id],
            )
            db.execute("DELETE FROM dashboards WHERE id = ?", [dashboard_id])

    # -- the grid ------------------------------------------------------------------------------
    def tiles(self, project_id: str, dashboard_id: str) -> list[Tile]:
        """The dashboard's reports in grid order."""
        self.dashboard(project_id, dashboard_id)
        with self.meta.transaction() as db:
            rows = _rows(
                db,
                "SELECT r.*, l.position AS l_position, l.w AS l_w, l.h AS l_h "
                "FROM report_layouts l JOIN reports r ON r.id = l.report_id "
                "WHERE l.dashboard_id = ? AND r.project_id = ? ORDER BY l.position, r.name",
                [dashboard_id, project_id],
            )
        return [Tile(_report(r), r["l_position"], r["l_w"], r["l_h"]) for r in rows]

    def add_tile(self, project_id: str, dashboard_id: str, report_id: str) -> None:
        """Put a report at the end of a dashboard (a report already there stays where it is)."""
        self.report(project_id, report_id)
        last = max((t.position for t in self.tiles(project_id, dashboard_id)), default=-1)
        row = {
            "dashboard_id": dashboard_id,
            "report_id": report_id,
            "position": last + 1,
            "w": DEFAULT_W,
            "h": DEFAULT_H,
        }
        with self.meta.transaction() as db:
            db.table("report_layouts").insert(row, ignore=True)

    def remove_tile(self, project_id: str, dashboard_id: str, report_id: str) -> None:
        self.tile(project_id, dashboard_id, report_id)
        with self.meta.transaction() as db:
            db.execute(
                "DELETE FROM report_layouts WHERE dashboard_id = ? AND report_id = ?",
                [dashboard_id, report_id],
            )

    def move_tile(self, project_id: str, dashboard_id: str, report_id: str, steps: int) -> None:
        """Move a report `steps` places later (negative: earlier) in the grid."""
        tiles = self.tiles(project_id, dashboard_id)
        order = [t.report.id for t in tiles]
        if report_id not in order:
            raise NotFoundError("this report is not on the dashboard")
        index = order.index(report_id)
        order.insert(max(0, min(len(order) - 1, index + steps)), order.pop(index))
        with self.meta.transaction() as db:
            for position, rid in enumerate(order):
                db.execute(
                    "UPDATE report_layouts SET position = ? "
                    "WHERE dashboard_id = ? AND report_id = ?",
                    [position, dashboard_id, rid],
                )

    def resize_tile(
        self, project_id: str, dashboard_id: str, report_id: str, w: int, h: int
    ) -> None:
        """Set a tile's width (one of WIDTHS) and height (one of HEIGHTS)."""
        if w not in WIDTHS:
            raise ValidationError("w", f"must be one of {', '.join(map(str, WIDTHS))}")
        if h not in HEIGHTS:
            raise ValidationError("h", f"must be one of {', '.join(map(str, HEIGHTS))}")
        self.tile(project_id, dashboard_id, report_id)
        with self.meta.transaction() as db:
            db.execute(
                "UPDATE report_layouts SET w = ?, h = ? WHERE dashboard_id = ? AND report_id = ?",
                [w, h, dashboard_id, report_id],
            )

    def tile(self, project_id: str, dashboard_id: str, report_id: str) -> Tile:
        """A report's tile on a dashboard; NotFoundError when it is not there."""
        for tile in self.tiles(project_id, dashboard_id):
            if tile.report.id == report_id:
                return tile
        raise NotFoundError("this report is not on the dashboard")

    # -- share links ---------------------------------------------------------------------------
    def create_share(
        self,
        project_id: str,
        kind: str,
        created_by: str,
        dashboard_id: str | None = None,
        password: str = "",
    ) -> Share:
        """A new public link to the overview or a dashboard, optionally password-protected."""
        if kind not in SHARE_KINDS:
            raise ValidationError("kind", f"must be one of {', '.join(SHARE_KINDS)}")
        if kind == "dashboard":
            self.dashboard(project_id, str(dashboard_id))
        else:
            dashboard_id = None
        if password and not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
            raise ValidationError("password", f"use at least {PASSWORD_MIN} characters")
        share = Share(
            id=secrets.token_urlsafe(18),
            project_id=project_id,
            kind=kind,
            dashboard_id=dashboard_id,
            password_hash=hash_secret(password) if password else None,
            created_by=created_by,
            created_at=self._now(),
        )
        with self.meta.transaction() as db:
            db.table("shares").insert(asdict(share))
        return share

    def share(self, share_id: str) -> Share | None:
        """The share behind a public token, unless it was revoked."""
        with self.meta.transaction() as db:
            rows = _rows(db, "SELECT * FROM shares WHERE id = ? AND revoked_at IS NULL", [share_id])
        return Share(**rows[0]) if rows else None

    def shares(self, project_id: str) -> list[Share]:
        """The project's live share links, newest first."""
        with self.meta.transaction() as db:
            rows = _rows(
                db,
                "SELECT * FROM shares WHERE project_id = ? AND revoked_at IS NULL "
                "ORDER BY created_at DESC",
                [project_id],
            )
        return [Share(**r) for r in rows]

    def revoke_share(self, project_id: str, share_id: str) -> Share:
        """Stop a share link for good; returns what it shared."""
        with self.meta.transaction() as db:
            rows = _rows(
                db, "SELECT * FROM shares WHERE id = ? AND project_id = ?", [share_id, project_id]
            )
            cur = db.execute(
                "UPDATE shares SET revoked_at = ? "
                "WHERE id = ? AND project_id = ? AND revoked_at IS NULL",
                [self._now(), share_id, project_id],
            )
            if cur.rowcount == 0:
                raise NotFoundError("this share link does not exist (any more)")
        return Share(**rows[0])

    @staticmethod
    def password_ok(share: Share, password: str) -> bool:
        """Whether `password` opens a protected share (constant time; argon2id)."""
        return bool(share.password_hash) and verify_secret(str(share.password_hash), password)


def _rows(db: Any, sql: str, args: list[Any]) -> list[dict[str, Any]]:
    cursor = db.execute(sql, args)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _report(row: dict[str, Any]) -> SavedReport:
    return SavedReport(
        id=row["id"],
        project_id=row["project_id"],
        name=row["name"],
        spec=ReportSpec.from_row(row),
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
