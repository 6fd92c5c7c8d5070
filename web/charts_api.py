"""GET /export/charts and /insights/{projectId}/chart: the chart engine over HTTP."""

from __future__ import annotations

from typing import Any

CHART_HANDLERS: list[Any] = []
